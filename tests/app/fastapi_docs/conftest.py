"""The examples here are run by tests/app/test_tutorial_*.py, not collected."""

collect_ignore_glob = ["*"]
