"""Secrets never reach a log line."""

import logging

import pytest
from telegram.error import TelegramError
from telegram.request import BaseRequest

from ocm_bot.logging_setup import SecretMaskingFilter, configure_logging


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


def test_an_html_error_page_from_telegram_is_one_warning_line_not_an_error_with_a_traceback(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO", [])
        with pytest.raises(TelegramError):  # what python-telegram-bot does with nginx's 502 page
            BaseRequest.parse_json_payload(b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n</html>")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    logged = capsys.readouterr().err
    assert "WARNING telegram.request.BaseRequest: Telegram answered a page that is not JSON: <html> <head>" in logged
    assert "502 Bad Gateway" in logged
    assert "ERROR" not in logged and "Traceback" not in logged


def test_the_suite_s_secret_watch_sees_a_registered_secret_in_a_record_and_in_output():
    import logging as logging_module

    from tests import secret_watch

    secret_watch.register("a-registered-test-secret")
    assert secret_watch.leaks_in("token=a-registered-test-secret!") != []
    assert secret_watch.leaks_in("nothing here") == []
    handler = secret_watch._SecretWatch()
    record = logging_module.LogRecord(
        "ocm_bot.x", logging_module.INFO, __file__, 1, "%s", ("a-registered-test-secret",), None
    )
    handler.emit(record)
    secret_watch.scan_output("printed a-registered-test-secret", "a process")
    seen, secret_watch._seen[:] = list(secret_watch._seen), []
    assert len(seen) == 2 and all("a-registered-test-secret" not in line for line in seen)
