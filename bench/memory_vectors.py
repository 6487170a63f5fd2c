"""Semantic-recall scale benchmark: HNSW (pgvector) over 1,000,000 synthetic 384-d vectors.

Kept in its own database (`bench_memory`) on the same PostgreSQL server, never the
test database. `setup()` is idempotent: it generates the vectors (a mixture of
Gaussian clusters, normalised, so neighbourhoods look like sentence embeddings
rather than uniform noise), bulk-loads them with binary COPY and builds the HNSW
index (cosine). Building takes many minutes on two cores; run it early:

    nohup .venv/bin/python bench/memory_vectors.py setup > var/bench_vectors.log 2>&1 &

`measure()` runs queries drawn from the same distribution and reports p50/p99 of
the indexed query and recall@10 against an exact (sequential) search.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

DB = "bench_memory"
N = int(os.environ.get("BENCH_VECTORS", "1000000"))
DIM = 384
CLUSTERS = int(os.environ.get("BENCH_CLUSTERS", "2000"))
NOISE = float(os.environ.get("BENCH_NOISE", "0.9"))
# LATENT > 0: vectors live near a LATENT-dimensional subspace (as sentence embeddings do,
# whose intrinsic dimension is far below 384), projected into 384 dimensions with a
# little isotropic noise. LATENT = 0: clusters with isotropic noise in all 384
# dimensions, a harder case than real embeddings.
LATENT = int(os.environ.get("BENCH_LATENT", "48"))
TABLE = f"items_c{CLUSTERS}_n{int(NOISE * 10)}" + (f"_l{LATENT}" if LATENT else "")
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
EF_SEARCH = int(os.environ.get("BENCH_EF_SEARCH", "100"))
SEED = 7


def _host() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from config.settings.database import DATABASES

    return str(DATABASES["default"]["HOST"]) or "localhost"


def connect(host: str) -> psycopg.Connection[Any]:
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            admin.execute(f'CREATE DATABASE "{DB}"')
    conn = psycopg.connect(host=host, user="postgres", dbname=DB, autocommit=True)
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    register_vector(conn)
    return conn


def _centers(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((CLUSTERS, LATENT or DIM)).astype(np.float32)


def _projection() -> np.ndarray:
    return np.random.default_rng(SEED + 100).standard_normal((LATENT, DIM)).astype(np.float32) / np.sqrt(
        LATENT
    )


def _sample(rng: np.random.Generator, centers: np.ndarray, n: int) -> np.ndarray:
    idx = rng.integers(0, CLUSTERS, n)
    vecs = centers[idx] + NOISE * rng.standard_normal((n, centers.shape[1])).astype(np.float32)
    if LATENT:
        vecs = vecs @ _projection() + 0.1 * rng.standard_normal((n, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs


def setup() -> None:
    conn = connect(_host())
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, embedding vector(384) NOT NULL)"
    )
    have = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]  # type: ignore[index]  # noqa: S608 - the table name is the bench's own constant
    if have != N:
        conn.execute(f"TRUNCATE {TABLE}")
        rng = np.random.default_rng(SEED)
        centers = _centers(rng)
        t0 = time.perf_counter()
        batch = 50_000
        with conn.cursor() as cur:
            for start in range(0, N, batch):
                vecs = _sample(rng, centers, min(batch, N - start))
                with cur.copy(f"COPY {TABLE} (embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
                    copy.set_types(["vector"])
                    for v in vecs:
                        copy.write_row([v])
                print(f"loaded {start + len(vecs)}", flush=True)
        print(f"load: {time.perf_counter() - t0:.1f}s", flush=True)
        conn.execute(f"DROP INDEX IF EXISTS {TABLE}_hnsw")
    exists = conn.execute(f"SELECT 1 FROM pg_indexes WHERE indexname = '{TABLE}_hnsw'").fetchone()  # noqa: S608 - the table name is the bench's own constant
    if not exists:
        conn.execute("SET maintenance_work_mem = '6GB'")
        conn.execute("SET max_parallel_maintenance_workers = 1")
        t0 = time.perf_counter()
        conn.execute(
            f"CREATE INDEX {TABLE}_hnsw ON {TABLE} USING hnsw (embedding vector_cosine_ops) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
        )
        print(f"index build: {time.perf_counter() - t0:.1f}s", flush=True)
    conn.execute(f"VACUUM ANALYZE {TABLE}")
    print("setup done", flush=True)


def measure(queries: int = 200, exact_queries: int = 50) -> dict[str, float]:
    """p50/p99 (ms) of top-10 indexed queries and recall@10 against exact search."""
    conn = connect(_host())
    ready = conn.execute(f"SELECT 1 FROM pg_indexes WHERE indexname = '{TABLE}_hnsw'").fetchone()  # noqa: S608 - the table name is the bench's own constant
    if not ready:
        raise SystemExit("run `bench/memory_vectors.py setup` first")
    rng = np.random.default_rng(SEED + 1)
    rng_centers = np.random.default_rng(SEED)
    centers = _centers(rng_centers)
    qs = _sample(rng, centers, queries)
    if os.environ.get("BENCH_QUERIES") == "uniform":  # worst case: queries far from every cluster
        qs = rng.standard_normal((queries, DIM)).astype(np.float32)  # also off the subspace
        qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    sql = f"SELECT id FROM {TABLE} ORDER BY embedding <=> %s LIMIT 10"  # noqa: S608 - the table name is the bench's own constant
    conn.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
    for q in qs[:20]:  # warm the index pages
        conn.execute(sql, [q]).fetchall()
    times: list[float] = []
    got: list[set[int]] = []
    for q in qs:
        t0 = time.perf_counter()
        rows = conn.execute(sql, [q]).fetchall()
        times.append((time.perf_counter() - t0) * 1000)
        got.append({r[0] for r in rows})
    with conn.transaction():
        conn.execute("SET LOCAL enable_indexscan = off")
        conn.execute("SET LOCAL max_parallel_workers_per_gather = 2")
        hits = 0
        for q, approx in zip(qs[:exact_queries], got[:exact_queries], strict=True):
            # prepare=False: a statement prepared earlier would keep its index plan.
            exact = {r[0] for r in conn.execute(sql, [q], prepare=False).fetchall()}
            hits += len(exact & approx)
    times.sort()
    return {
        "vectors": float(N),
        "p50_ms": statistics.median(times),
        "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
        "recall_at_10": hits / (10 * exact_queries),
        "ef_search": float(EF_SEARCH),
    }


if __name__ == "__main__":
    if sys.argv[1:] == ["setup"]:
        setup()
    else:
        print(measure())
