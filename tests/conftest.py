"""Hypothesis profiles: "ci" (bounded, the default) and "long" (by hand: FASTNET_FUZZ_PROFILE=long)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("FASTNET_FUZZ_PROFILE", "ci"))
