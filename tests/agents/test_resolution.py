"""Model resolution against the scripted provider's live list: exact, fuzzy, tiers, overrides."""

from __future__ import annotations

import asyncio
import threading

import pytest

from agents.providers import catalog
from agents.providers.config import resolve
from agents.providers.resolution import chain_resolve, fuzzy_match, model_resolve
from agents.providers.tiers import FALLBACK_MODEL_IDS, ModelTier, model_for_tier, models_for_tier, tier_of
from agents.runtime import agenerate, generate
from core.context import RequestContext
from tests.fakes.openai_server import ChatReply

DEPLOYED = [
    "databricks-claude-sonnet-4-5",
    "databricks-claude-sonnet-4-6",
    "databricks-meta-llama-3-3-70b-instruct",
    "gpt-5-mini",
    "gpt-test",
    "gemma-3-12b",
]


@pytest.fixture
def deployed(openai_server):
    openai_server.set_models(DEPLOYED)
    catalog.cache_clear()
    return openai_server


@pytest.fixture
def ctx(user):
    return RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)


def _list_fetches(server) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/models"))


def test_an_exact_id_wins_over_fuzzy_ones(deployed):
    assert model_resolve("scripted/gpt-test").id == "scripted/gpt-test"
    assert (
        model_resolve("scripted/databricks-claude-sonnet-4-5").id == "scripted/databricks-claude-sonnet-4-5"
    )


@pytest.mark.parametrize(
    ("asked", "meant"),
    [
        ("claude sonnet", "databricks-claude-sonnet-4-6"),  # the newest of two: the catalogue's order
        ("Claude-Sonnet 4.5", "databricks-claude-sonnet-4-5"),
        ("llama 70b", "databricks-meta-llama-3-3-70b-instruct"),
        ("sonet", "databricks-claude-sonnet-4-6"),  # a typo within the threshold
        ("gpt 5 mini", "gpt-5-mini"),
        ("GPT-TEST", "gpt-test"),
    ],
)
def test_word_tokens_match_the_deployed_id(deployed, asked, meant):
    ref = model_resolve(f"scripted/{asked}")
    assert ref.id == f"scripted/{meant}"
    assert ref.requested == f"scripted/{asked}"


@pytest.mark.parametrize("asked", ["gpt 4o mini", "mistral large", "claude opus"])
def test_no_match_keeps_the_name_with_the_closest_ids(deployed, asked):
    ref = model_resolve(f"scripted/{asked}")
    assert ref.name == asked
    assert ref.candidates
    assert set(ref.candidates) <= set(DEPLOYED)


def test_the_threshold_comes_from_settings(deployed, settings):
    assert fuzzy_match("sonet", DEPLOYED) == "databricks-claude-sonnet-4-6"
    settings.MODEL_FUZZY_THRESHOLD = 95
    assert fuzzy_match("sonet", DEPLOYED) is None


@pytest.mark.django_db(transaction=True)
def test_no_match_passes_the_providers_404_on_with_the_candidates(deployed, make_agent, ctx, api_client):
    from agents.providers.calls import ModelNotFound

    make_agent(model="scripted/mistral large", fallback_models=[])
    deployed.respond_with(_not_found)  # as a real provider answers a model it does not serve
    with pytest.raises(ModelNotFound) as raised:
        generate("helper", context=ctx, prompt="hi")
    assert raised.value.status == 404
    assert "mistral large" in raised.value.message
    assert raised.value.details["candidates"]
    assert deployed.chat_requests[0].body["model"] == "mistral large"  # the input, kept
    response = api_client.post("/api/agents/helper/generate", {"prompt": "hi"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "model_not_found", response.json()
    assert response.json()["details"]["candidates"] == raised.value.details["candidates"]


def _not_found(body):
    from tests.fakes.openai_server import Fault

    return Fault(status=404, message=f"The model {body['model']} does not exist")


def test_the_catalogue_is_tiered_with_families_interleaved_and_open_weights_last():
    thinking = models_for_tier(ModelTier.THINKING)
    assert thinking[:3] == ["claude-opus-4-8", "gpt-5.5-pro", "gemini-3.1-pro"]
    assert thinking[-3:] == ["llama-4-maverick", "gpt-oss-120b", "llama-3.1-405b-instruct"]
    assert model_for_tier("fast") == "claude-haiku-4-5"
    assert FALLBACK_MODEL_IDS[0] == "claude-opus-4-8"
    assert FALLBACK_MODEL_IDS.index("claude-sonnet-4-6") > FALLBACK_MODEL_IDS.index("llama-3.1-405b-instruct")
    assert tier_of("databricks-claude-sonnet-4-6") == ModelTier.BALANCED
    assert tier_of("gpt-test") is None


def test_the_walk_skips_missing_tiers(deployed, settings):
    """No thinking model is deployed: the walk lands on the best balanced one."""
    settings.DEFAULT_MODEL = ""
    assert model_resolve("").id == "scripted/databricks-claude-sonnet-4-6"
    assert model_resolve("tier:fast").id == "scripted/gpt-5-mini"
    deployed.set_models(["gemma-3-12b", "gpt-test"])  # only the open-weight floor of the fast tier
    catalog.cache_clear()
    assert model_resolve("").id == "scripted/gemma-3-12b"
    # Nothing balanced is deployed: the rest of the catalogue, down to its open-weight floor.
    assert model_resolve("tier:balanced").id == "scripted/gemma-3-12b"
    deployed.set_models(["gpt-test", "gpt-test-mini"])  # ids the catalogue does not know
    catalog.cache_clear()
    assert model_resolve("tier:fast").id == "scripted/gpt-test"  # what the provider has
    assert model_resolve("").id == "scripted/gpt-test"
    deployed.set_models([])  # a provider that lists nothing: the top id, and its own error
    catalog.cache_clear()
    assert model_resolve("tier:balanced").name == "claude-sonnet-4-6"


def test_a_tier_in_the_fallbacks_stands_for_its_deployed_models(deployed):
    chain = chain_resolve("scripted/gpt-test", ["tier:balanced", "tier:fast"])
    # `backup` is the same server, so each deployed model comes once per provider
    assert chain[2].id == "backup/databricks-claude-sonnet-4-6"
    assert [ref.id for ref in chain if ref.provider == "scripted"] == [
        "scripted/gpt-test",
        "scripted/databricks-claude-sonnet-4-6",
        "scripted/databricks-claude-sonnet-4-5",
        "scripted/databricks-meta-llama-3-3-70b-instruct",
        "scripted/gpt-5-mini",
        "scripted/gemma-3-12b",
    ]


def test_an_agent_without_a_model_runs_on_the_walked_one(deployed, make_agent, ctx, settings):
    settings.DEFAULT_MODEL = ""
    make_agent(model="", fallback_models=["tier:fast"])
    deployed.script(ChatReply(text="from sonnet"))
    result = generate("helper", context=ctx, prompt="hi")
    assert result.text == "from sonnet"
    assert deployed.chat_requests[0].body["model"] == "databricks-claude-sonnet-4-6"


def test_resolution_is_cached_not_fetched_per_run(deployed, make_agent, ctx):
    make_agent(model="scripted/claude sonnet")
    deployed.script(*(ChatReply(text=str(i)) for i in range(3)))
    for _ in range(3):
        generate("helper", context=ctx, prompt="hi")
    assert {r.body["model"] for r in deployed.chat_requests} == {"databricks-claude-sonnet-4-6"}
    assert _list_fetches(deployed) == 1


def test_the_list_is_fetched_again_after_its_ttl(deployed, settings):
    settings.MODELS_LIST_CACHE_S = 0
    model_resolve("scripted/claude sonnet")
    model_resolve("scripted/claude sonnet")
    assert _list_fetches(deployed) == 2


def test_concurrent_callers_sync_and_async_share_one_fetch(deployed):
    deployed.set_models(DEPLOYED)
    catalog.cache_clear()
    ref = resolve("scripted/_")
    results: list[object] = []
    barrier = threading.Barrier(9)

    def in_thread() -> None:
        barrier.wait()
        results.append(catalog.provider_models(ref))

    async def in_loop() -> None:
        barrier.wait()
        results.extend(await asyncio.gather(*(catalog.provider_models_async(ref) for _ in range(8))))

    threads = [threading.Thread(target=in_thread) for _ in range(8)]
    for thread in threads:
        thread.start()
    asyncio.run(in_loop())
    for thread in threads:
        thread.join()
    assert len(results) == 16
    assert all(r == (sorted(DEPLOYED), "") for r in results)
    assert catalog.fetch_count("scripted") == 1
    assert _list_fetches(deployed) == 1


@pytest.mark.django_db(transaction=True)
def test_the_async_path_fetches_the_list_off_the_event_loop(deployed, make_agent, ctx):
    make_agent(model="scripted/claude sonnet")
    deployed.script(ChatReply(text="async"))
    result = asyncio.run(agenerate("helper", context=ctx, prompt="hi"))
    assert result.text == "async"
    assert deployed.chat_requests[0].body["model"] == "databricks-claude-sonnet-4-6"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["header", "query", "body", "body-modelId"])
def test_an_override_by_header_query_or_body(deployed, make_agent, api_client, where):
    make_agent(allow_model_override=True)
    deployed.script(ChatReply(text="overridden"))
    url, body, headers = "/api/agents/helper/generate", {"prompt": "hi"}, {}
    if where == "header":
        headers["HTTP_X_MODEL"] = "scripted/claude sonnet"
    elif where == "query":
        url += "?model=scripted/claude%20sonnet"
    elif where == "body":
        body["model"] = "scripted/claude sonnet"
    else:
        body["modelId"] = "scripted/claude sonnet"
    response = api_client.post(url, body, format="json", **headers)
    assert response.status_code == 200, response.json()
    assert deployed.chat_requests[0].body["model"] == "databricks-claude-sonnet-4-6"


@pytest.mark.django_db(transaction=True)
def test_the_header_wins_over_the_query_and_the_body(deployed, make_agent, api_client):
    make_agent(allow_model_override=True)
    deployed.script(ChatReply(text="ok"))
    api_client.post(
        "/api/agents/helper/generate?model=scripted/llama",
        {"prompt": "hi", "model": "scripted/gpt 5 mini"},
        format="json",
        HTTP_X_MODEL="scripted/gemma",
    )
    assert deployed.chat_requests[0].body["model"] == "gemma-3-12b"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["header", "query", "body"])
def test_an_override_the_agent_does_not_allow_is_a_403_naming_it(deployed, make_agent, api_client, where):
    make_agent(slug="strict")
    url, body, headers = "/api/agents/strict/generate", {"prompt": "hi"}, {}
    if where == "header":
        headers["HTTP_X_MODEL"] = "scripted/gemma"
    elif where == "query":
        url += "?model=scripted/gemma"
    else:
        body["model"] = "scripted/gemma"
    response = api_client.post(url, body, format="json", **headers)
    assert response.status_code == 403
    assert "strict" in response.json()["message"]
    assert deployed.chat_requests == []


def test_the_chat_route_takes_the_override_and_refuses_it_where_not_allowed(deployed, make_agent, api_client):
    make_agent(slug="strict")
    message = {"role": "user", "parts": [{"type": "text", "text": "hi"}]}
    response = api_client.post(
        "/api/agents/strict/chat",
        {"id": "c1", "messages": [message]},
        format="json",
        HTTP_X_MODEL="scripted/x",
    )
    assert response.status_code == 403
    assert "strict" in response.json()["message"]


def test_models_list_each_with_its_tier(deployed, make_agent, api_client):
    make_agent()
    body = api_client.get("/api/models").json()
    tiers = {m["id"]: m["tier"] for m in body["models"]}
    assert tiers["scripted/databricks-claude-sonnet-4-6"] == "balanced"
    assert tiers["scripted/gpt-5-mini"] == "fast"
    assert tiers["scripted/gpt-test"] is None


def test_models_show_configured_names_as_the_ids_they_resolve_to(deployed, make_agent, api_client):
    make_agent(model="scripted/claude sonnet", fallback_models=["tier:fast"])
    models = {m["id"]: m for m in api_client.get("/api/models").json()["models"]}
    assert models["scripted/databricks-claude-sonnet-4-6"]["configured"] is True
    assert "scripted/claude sonnet" not in models
    assert not any(m.startswith("tier:") for m in models)


def test_a_fresh_install_names_no_default_model(monkeypatch):
    """The shipped DEFAULT_MODEL is empty, so nothing explicit means the catalogue walk."""
    import importlib

    import config.settings.providers as providers

    monkeypatch.delenv("DEFAULT_MODEL", raising=False)
    try:
        assert importlib.reload(providers).DEFAULT_MODEL == ""
    finally:
        monkeypatch.undo()
        importlib.reload(providers)


def test_the_demo_agent_of_a_fresh_install_runs_the_first_deployed_fast_model(
    deployed, ctx, settings, tmp_path
):
    from django.core.management import call_command

    from agents.models import Agent

    settings.DEFAULT_MODEL = ""
    settings.BASE_DIR = tmp_path  # the generated password goes under tmp_path/var
    call_command("seed_demo", stdout=__import__("io").StringIO())
    assert Agent.objects.get(slug="assistant").model == "tier:fast"
    # no Claude Haiku, GPT-5.4 mini or nano: the walk of the fast tier lands on GPT-5 mini
    deployed.script(ChatReply(text="hello"))
    assert generate("assistant", context=ctx, prompt="hi").text == "hello"
    assert deployed.chat_requests[0].body["model"] == "gpt-5-mini"


def test_an_explicit_default_model_is_the_demo_agents(deployed, db, settings, tmp_path):
    from django.core.management import call_command

    from agents.models import Agent

    settings.DEFAULT_MODEL = "scripted/gpt-test"
    settings.BASE_DIR = tmp_path
    call_command("seed_demo", stdout=__import__("io").StringIO())
    assert Agent.objects.get(slug="assistant").model == "scripted/gpt-test"


def test_with_no_default_model_the_chat_page_names_the_key_to_set(settings, monkeypatch):
    from chat.selectors import provider_setup_hint

    settings.DEFAULT_MODEL = ""
    settings.MODEL_PROVIDERS = {
        "openai": {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "OPENAI_API_KEY"}
    }
    monkeypatch.delenv("OPENAI_API_KEY")
    assert "set OPENAI_API_KEY" in (provider_setup_hint() or "")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    assert provider_setup_hint() is None
