"""The deployment files say what the bot really is: Dockerfile, docker-compose.yml, Procfile, the systemd unit.

What the Dockerfile does is also done here without a container engine: its wheel, installed (not
editable) into a fresh virtual environment outside the checkout, runs its CMD and HEALTHCHECK.
``scripts/test-image`` builds the image itself where an engine runs.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import subprocess
import tomllib
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import yaml

from ocm_bot.cli import _parser
from ocm_bot.settings import Settings, environment_name
from tests.e2e.fixtures import REPO_ROOT
from tests.e2e.test_postgres import listening
from tests.e2e.test_processes import free_port

SETTINGS_VARIABLES = {environment_name(item.name) for item in dataclasses.fields(Settings)}
NOT_SETTINGS = {
    "PATH",
    "PIP_DISABLE_PIP_VERSION_CHECK",
    "PIP_NO_CACHE_DIR",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
}
# Read by the bot's health and metrics endpoints (the observe work); the Dockerfile's HEALTHCHECK asks them.
HEALTH_VARIABLES = {"PORT", "METRICS_PORT"}


@dataclasses.dataclass
class Stage:
    base: str
    instructions: list[tuple[str, str]]

    def all(self, keyword: str) -> list[str]:
        return [argument for name, argument in self.instructions if name == keyword]

    def one(self, keyword: str) -> str:
        [argument] = self.all(keyword)
        return argument

    def environment(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for argument in self.all("ENV"):
            for pair in shlex.split(argument):
                name, _, value = pair.partition("=")
                found[name] = value
        return found


def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    """The Dockerfile's global ARGs and its stages, instructions with continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (REPO_ROOT / "Dockerfile").read_text())
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        keyword, _, argument = line.strip().partition(" ")
        if keyword == "FROM":
            stages.append(Stage(argument.split()[0], []))
        elif keyword == "ARG" and not stages:
            name, _, default = argument.partition("=")
            arguments[name] = default
        else:
            stages[-1].instructions.append((keyword, argument.strip()))
    return arguments, stages


def procfile() -> dict[str, str]:
    lines = (REPO_ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def commands_of_the_cli() -> set[str]:
    [subcommands] = [action for action in _parser()._actions if action.dest == "command"]
    return set(subcommands.choices)


def test_the_procfile_runs_the_installed_command_s_two_ways_of_getting_updates():
    processes = procfile()
    assert processes == {"worker": "ocm-bot run", "web": "ocm-bot webhook"}
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(scripts) == {"ocm-bot"}
    assert {command.split()[1] for command in processes.values()} <= commands_of_the_cli()


def test_the_dockerfile_builds_the_wheel_then_installs_it_for_a_plain_user_with_real_commands_and_variables():
    arguments, [build, final] = dockerfile()
    assert arguments["PYTHON_IMAGE"] == "python:3.11-slim"
    assert build.base == final.base == "${PYTHON_IMAGE}"
    assert "pip wheel" in build.one("RUN") and "-r requirements.txt" in build.one("RUN")
    assert "scripts/check-wheel" in build.one("RUN")  # every catalog is in the wheel
    [install] = final.all("RUN")
    assert "--no-index" in install and "pip install" in install and "-e " not in install
    assert final.one("USER") not in ("root", "0")
    assert f"--uid {10001}" in install and final.one("USER") == "ocm-bot"

    command = json.loads(final.one("CMD"))
    assert " ".join(command) in procfile().values()
    environment = final.environment()
    assert set(environment) - NOT_SETTINGS <= SETTINGS_VARIABLES, set(environment) - NOT_SETTINGS - SETTINGS_VARIABLES
    assert final.one("EXPOSE") == environment["PORT"]
    assert environment["DATA_DIR"] == final.one("WORKDIR") == json.loads(final.one("VOLUME"))[0]

    healthcheck = final.one("HEALTHCHECK")
    assert "CMD" in healthcheck
    probe = json.loads(healthcheck.split("CMD", 1)[1])
    assert probe[0] == "python" and "/healthz" in probe[-1]
    assert set(re.findall(r"environ\.get\('([A-Z_]+)'\)", probe[-1])) == HEALTH_VARIABLES

    ignored = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    for copy in build.all("COPY"):
        *sources, _ = copy.split()
        for source in sources:
            assert (REPO_ROOT / source).exists(), source
            assert f"!{source}" in ignored or f"!{source}/" in ignored, f"{source} is left out by .dockerignore"


def compose() -> dict:
    """docker-compose.yml with each ${VARIABLE...} replaced by a stand-in value, as `docker compose` fills them in."""
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    return yaml.safe_load(re.sub(r"\$\{([A-Z_]+)(?::[?-][^}]*)?\}", lambda found: found[1].lower(), text))


def test_compose_runs_two_webhook_instances_on_postgresql_behind_a_proxy_that_forwards_only_the_webhook():
    services = compose()["services"]
    bots = {name: service for name, service in services.items() if service.get("build") == "."}
    assert sorted(bots) == ["web-1", "web-2"]
    _, [_, final] = dockerfile()
    port = final.one("EXPOSE")
    for service in bots.values():
        assert " ".join(service["command"]) == procfile()["web"]
        environment = service["environment"]
        assert set(environment) <= SETTINGS_VARIABLES, set(environment) - SETTINGS_VARIABLES
        assert environment["PORT"] == port
        database = urlsplit(environment["DATABASE_URL"])
        assert database.scheme == "postgresql" and database.hostname in services
        assert services[database.hostname]["image"].startswith("postgres:")
        assert "postgres" in service["depends_on"]
        assert environment["WEBHOOK_URL"].startswith("https://")

    caddyfile = (REPO_ROOT / "deploy" / "Caddyfile").read_text()
    [proxy] = [name for name, service in services.items() if str(service.get("image", "")).startswith("caddy:")]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services[proxy]["volumes"]
    [upstreams] = re.findall(r"reverse_proxy ([^{\n]+)", caddyfile)
    assert upstreams.split() == [f"{name}:{port}" for name in sorted(bots)]
    webhook_path = urlsplit(bots["web-1"]["environment"]["WEBHOOK_URL"]).path
    assert re.findall(r"handle (/\S*) \{", caddyfile) == [webhook_path]  # /metrics, /healthz stay inside

    required = set(re.findall(r"\$\{([A-Z_]+):\?", (REPO_ROOT / "docker-compose.yml").read_text()))
    example = set(re.findall(r"^([A-Z_]+)=", (REPO_ROOT / "deploy" / "compose.env.example").read_text(), re.M))
    assert required <= example


def systemd_unit() -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in (REPO_ROOT / "deploy" / "ocm-bot.service").read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            entries.setdefault(key, []).append(value)
    return entries


def test_the_systemd_unit_starts_the_installed_command_as_a_dedicated_user_with_real_variables_and_hardening():
    unit = systemd_unit()
    [start] = unit["ExecStart"]
    executable, command = start.split()
    assert Path(executable).name == "ocm-bot" and Path(executable).parent.name == "bin"
    assert f"ocm-bot {command}" in procfile().values()
    assert unit["User"] == ["ocm-bot"] and unit["Restart"] == ["on-failure"]
    assert unit["EnvironmentFile"] == ["/etc/ocm-bot/ocm-bot.env"]
    assert unit["StateDirectory"] == ["ocm-bot"] and unit["WorkingDirectory"] == ["/var/lib/ocm-bot"]
    for hardening in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "RestrictAddressFamilies"):
        assert hardening in unit, hardening
    assert unit["ProtectSystem"] == ["strict"] and unit["CapabilityBoundingSet"] == [""]

    example = (REPO_ROOT / "deploy" / "ocm-bot.env.example").read_text()
    named = set(re.findall(r"^#? ?([A-Z_]+)=", example, re.M))
    assert {"TELEGRAM_BOT_TOKEN", "OCM_API_KEY", "DATA_DIR"} <= named
    assert named <= SETTINGS_VARIABLES, named - SETTINGS_VARIABLES
    assert re.search(r"^DATA_DIR=/var/lib/ocm-bot$", example, re.M)


def test_the_wheel_ships_every_catalog_and_the_docker_build_s_check_says_so(installed_bot, tmp_path):
    check = [str(installed_bot.python), str(REPO_ROOT / "scripts" / "check-wheel")]
    catalogs = sorted((REPO_ROOT / "ocm_bot").glob("locales/*/LC_MESSAGES/*.po"))
    shipped = zipfile.ZipFile(installed_bot.wheel).namelist()
    assert {f"ocm_bot/{c.relative_to(REPO_ROOT / 'ocm_bot').as_posix()}" for c in catalogs} <= set(shipped)
    passed = subprocess.run(
        [*check, str(installed_bot.wheel), str(REPO_ROOT / "ocm_bot")], capture_output=True, text=True
    )
    assert passed.returncode == 0, passed.stderr
    assert f"ships all {len(catalogs)} catalogs" in passed.stdout

    lacking = tmp_path / installed_bot.wheel.name
    with zipfile.ZipFile(installed_bot.wheel) as source, zipfile.ZipFile(lacking, "w") as target:
        for item in source.infolist():
            if not item.filename.endswith("de/LC_MESSAGES/ocm_bot.po"):
                target.writestr(item, source.read(item))
    failed = subprocess.run([*check, str(lacking), str(REPO_ROOT / "ocm_bot")], capture_output=True, text=True)
    assert failed.returncode == 1 and "ocm_bot/locales/de/LC_MESSAGES/ocm_bot.po" in failed.stderr


async def test_the_installed_wheel_runs_the_image_s_command_and_its_healthcheck_tells_up_from_down(
    installed_bot, installed_bot_process, bot_settings, telegram, telegram_server
):
    _, [_, final] = dockerfile()
    port = free_port()
    image_environment = final.environment() | {"PORT": str(port), "DATA_DIR": str(bot_settings.data_dir)}
    image_environment.pop("PATH")
    command = json.loads(final.one("CMD"))
    assert command[0] == "ocm-bot"
    process = installed_bot_process(
        bot_settings,
        command=command[1],
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
        **{name: value for name, value in image_environment.items() if name != "WEBHOOK_LISTEN"},
        WEBHOOK_LISTEN="127.0.0.1",
    )
    await telegram.wait_for_request("setWebhook", timeout=30)
    await listening(port)
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    assert "Hi Ada!" in (await ada.wait_for_message(timeout=30)).text

    probe = json.loads(final.one("HEALTHCHECK").split("CMD", 1)[1])
    probe[0] = str(installed_bot.python)
    health_environment = {"PORT": str(port), "PATH": "/usr/bin:/bin"}

    def healthcheck() -> int:
        return subprocess.run(probe, env=health_environment, capture_output=True, timeout=10).returncode

    async with httpx.AsyncClient() as client:
        healthz = await client.get(f"http://127.0.0.1:{port}/healthz")
    assert healthz.status_code == 200, healthz.text
    assert healthcheck() == 0  # the running bot is healthy for the container engine too
    assert process.terminate() == 0
    assert healthcheck() != 0  # nothing answers any more
