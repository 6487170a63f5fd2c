"""Live scoring: a sample of an agent's completed runs scored in the background, at the configured rate."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from agents.models import Run
from agents.runtime import generate
from core.context import RequestContext
from core.errors import NotFound, ValidationFailed
from evals.models import LiveScore
from evals.services.live import live_scores_sweep, live_scoring_set, sampled
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = pytest.mark.django_db


def make_runs(agent: Any, tenant_id: int, count: int, text: str = "hello there") -> list[uuid.UUID]:
    now = datetime.now(UTC)
    runs = Run.objects.bulk_create(
        [
            Run(
                tenant_id=tenant_id, agent=agent, agent_version=agent.version, status=Run.Status.COMPLETED,
                input={"messages": [{"role": "user", "content": "hi"}]}, result={"text": text}, created_at=now,
            )
            for _ in range(count)
        ]
    )  # fmt: skip
    return [r.id for r in runs]


def test_runs_are_sampled_at_the_configured_rate(actor, eval_agent, other_tenant_actor):
    live_scoring_set(
        actor=actor, agent_id="evalbot", sample_rate=0.3, scorers=[{"scorer": "contains", "text": "hello"}]
    )
    ids = make_runs(eval_agent, actor.tenant_id, 400)
    make_runs(eval_agent, other_tenant_actor.tenant_id, 50)  # another tenant's runs: not this configuration's
    assert live_scores_sweep() == sum(sampled(i, 0.3) for i in ids)
    scored = set(LiveScore.objects.values_list("run_id", flat=True))
    assert scored <= set(ids)
    spread = 4 * math.sqrt(400 * 0.3 * 0.7)
    assert 120 - spread <= len(scored) <= 120 + spread
    assert LiveScore.objects.filter(passed=True, value=1.0).count() == len(scored)
    assert live_scores_sweep() == 0  # nothing twice
    assert LiveScore.objects.count() == len(scored)


def test_a_disabled_or_zero_rate_configuration_scores_nothing(actor, eval_agent):
    config = live_scoring_set(actor=actor, agent_id="evalbot", sample_rate=0.0, scorers=[{"scorer": "exact"}])
    make_runs(eval_agent, actor.tenant_id, 20)
    assert live_scores_sweep() == 0
    live_scoring_set(
        actor=actor, agent_id="evalbot", sample_rate=1.0, scorers=[{"scorer": "exact"}], enabled=False
    )
    assert live_scores_sweep() == 0
    config.refresh_from_db()
    assert (config.sample_rate, config.enabled) == (1.0, False)


def test_a_live_run_with_a_side_effect_is_scored_and_shown_on_its_run(
    actor, other_member, eval_agent, openai_server, api_client
):
    live_scoring_set(actor=actor, agent_id="evalbot", sample_rate=1.0, scorers=[{"scorer": "no_side_effect"}])
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="eval_send_email", arguments={"to": "boss@example.com"})]),
        ChatReply(text="Sent."),
    )
    result = generate(
        "evalbot",
        context=RequestContext(tenant_id=actor.tenant_id, user_id=actor.user_id),
        prompt="Email the boss",
    )
    assert live_scores_sweep() == 1
    score = LiveScore.objects.get(run_id=result.run_id)
    assert (score.passed, score.reason) == (False, "Side effects executed by: eval_send_email.")
    assert str(score.trace_id) == result.trace_id
    shown = api_client.get(f"/api/scores/run/{result.run_id}").json()
    assert [(s["origin"], s["scorer"], s["passed"]) for s in shown] == [("live", "no_side_effect", False)]
    token, _ = Token.objects.get_or_create(user_id=other_member.user_id)
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert stranger.get(f"/api/scores/run/{result.run_id}").json() == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sample_rate": 1.5}, "sample_rate"),
        ({"sample_rate": True}, "sample_rate"),
        ({"scorers": [{"scorer": "x"}]}, "scorers.0"),
    ],
)
def test_bad_configurations_are_refused(actor, eval_agent, kwargs, field):
    arguments = {"sample_rate": 0.5, "scorers": [{"scorer": "exact"}], **kwargs}
    with pytest.raises(ValidationFailed) as caught:
        live_scoring_set(actor=actor, agent_id="evalbot", **arguments)
    assert field in caught.value.details


def test_another_members_configuration_is_not_found(actor, other_member, eval_agent):
    live_scoring_set(actor=actor, agent_id="evalbot", sample_rate=0.5, scorers=[])
    with pytest.raises(NotFound):
        live_scoring_set(actor=other_member, agent_id="evalbot", sample_rate=1.0, scorers=[])
    with pytest.raises(NotFound):
        live_scoring_set(actor=actor, agent_id="ghost", sample_rate=1.0, scorers=[])
