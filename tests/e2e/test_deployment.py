"""The bot the way it is deployed: installed from its wheel, run from another folder, behind a webhook."""

from __future__ import annotations

import subprocess

from tests.e2e.test_settings import tap


def test_the_installed_package_is_imported_from_the_new_environment_not_the_checkout(installed_bot, outside_checkout):
    where = subprocess.run(
        [str(installed_bot.python), "-c", "import ocm_bot.i18n as i; print(i.__file__); print(i.LOCALES_DIR)"],
        cwd=outside_checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(path.startswith(str(installed_bot.venv)) for path in where), where


async def test_an_installed_wheel_speaks_german_and_offers_every_language(
    installed_bot_process, bot_settings, telegram
):
    process = installed_bot_process(bot_settings)
    hans = telegram.user("Hans", language_code="de")
    await hans.send_text("/start")
    welcome = await hans.wait_for_message(timeout=30)
    assert "Hallo Hans!" in welcome.text
    assert hans.reply_keyboard_labels == ["📍 Meinen Standort senden"]
    await hans.send_text("/language")
    languages = await hans.wait_for_message(containing="Sprache")
    assert {"English", "Deutsch", "Français", "Español", "Nederlands"} <= set(languages.labels), languages.labels
    menu = await tap(hans, languages, "Français")
    assert "Langue" in menu.text and "Français" in menu.text, menu.text  # the French catalog answers
    assert process.terminate() == 0
    assert "Traceback" not in process.log
