import pytest
from tests.e2e.test_languages import tap, tap_and_wait_edit

@pytest.mark.parametrize("code", ["it", "pt", "pl", "uk", "ar", "nb", "sv"])
async def test_dump(telegram, bot, code):
    u = telegram.user("Kari", language_code=code)
    await u.send_text("/start")
    w = await u.wait_for_message()
    out = [f"=== WELCOME {w.text} {u.reply_keyboard_labels}"]
    await u.send_location(45.5122, -122.6587)
    await telegram.wait_until_idle()
    r = u.messages[-1]
    out.append("=== RESULTS " + "\n".join(r.text.split("\n")[:16]) + str(r.labels[10:]))
    await u.send_text("/charger 100627")
    await telegram.wait_until_idle()
    d = [m for m in u.messages if "Lidl" in (m.text or "")][-1]
    out.append(f"=== DETAILS {d.text} {d.labels}")
    await tap(u, d, d.labels[2])
    await telegram.wait_until_idle()
    p = u.messages[-1]
    out.append(f"=== CHECKIN {p.text} {p.labels}")
    p2 = await tap_and_wait_edit(u, p, p.labels[1])
    out.append(f"=== FAILED {p2.text} {p2.labels}")
    await u.send_text("/settings")
    await telegram.wait_until_idle()
    out.append(f"=== SETTINGS {u.messages[-1].text} {u.messages[-1].labels}")
    open(f"/tmp/langs/{code}.txt", "w").write("\n".join(out))
