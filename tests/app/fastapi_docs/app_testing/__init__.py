"""docs_src/app_testing: the "Testing" tutorial."""
