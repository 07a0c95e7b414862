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


def test_secrets_in_a_logged_traceback_are_masked(caplog):
    logger = logging.getLogger("test.masking.traceback")
    logger.addFilter(SecretMaskingFilter(["123456:ABCdef_ghi-JKL", "3fa85f64-5717-4562-b3fc-2c963f66afa6"]))
    with caplog.at_level(logging.ERROR, logger="test.masking.traceback"):
        try:  # python-telegram-bot's InvalidToken says "The token `...` was rejected by the server."
            raise RuntimeError("The token `123456:ABCdef_ghi-JKL` with key 3fa85f64-5717-4562-b3fc-2c963f66afa6")
        except RuntimeError:
            logger.exception("start-up failed")
    text = caplog.text
    assert "start-up failed" in text and "RuntimeError" in text
    assert "ABCdef_ghi-JKL" not in text and "3fa85f64" not in text
