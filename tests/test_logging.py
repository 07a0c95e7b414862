"""Secrets never reach a log line."""

import logging

from ocm_bot.logging_setup import SecretMaskingFilter


def test_known_secrets_and_bot_urls_are_masked(caplog):
    logger = logging.getLogger("test.masking")
    logger.addFilter(SecretMaskingFilter(["3fa85f64-5717-4562-b3fc-2c963f66afa6"]))
    with caplog.at_level(logging.INFO, logger="test.masking"):
        logger.info("GET https://api.telegram.org/bot123456:ABCdef_ghi-JKL/getMe")
        logger.info("key %s in use", "3fa85f64-5717-4562-b3fc-2c963f66afa6")
    text = caplog.text
    assert "123456:ABCdef_ghi-JKL" not in text and "/bot***/getMe" in text
    assert "3fa85f64" not in text and "key *** in use" in text
