"""Settings, one module per concern.

`config.settings.main` composes them for running the product;
`config.settings.test` adapts them for the test suite.
"""
