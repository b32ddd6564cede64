"""Let pytest rewrite the asserts of the shared chart checks, so a failing check says which figure differs."""

import pytest

pytest.register_assert_rewrite("chart_checks")
