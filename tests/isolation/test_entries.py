"""Every route, method and WebSocket frame type has an isolation entry (tests/isolation/entries.py)."""

from __future__ import annotations

from tests.isolation.entries import ENTRIES, FRAMES, every_frame_type, every_route


def test_every_route_and_method_has_an_entry():
    missing = [
        f"{route} {method.upper()}"
        for route, methods in every_route().items()
        for method in sorted(methods)
        if not ENTRIES.get(route, {}).get(method)
    ]
    assert not missing, (
        "Routes without an isolation entry (add one to ROUTES in tests/isolation/entries.py saying how "
        f"to reach an owner's object and who may): {missing}"
    )
    stale = [route for route in ENTRIES if route not in every_route()]
    assert not stale, f"Entries for routes that no longer exist: {stale}"


def test_every_websocket_frame_type_has_an_entry():
    missing = every_frame_type() - set(FRAMES)
    assert not missing, (
        "WebSocket frame types without an isolation entry (add one to FRAMES in tests/isolation/entries.py): "
        f"{sorted(missing)}"
    )
