"""The wallboard as a supervisor sees it, in a real browser: Debian's headless chromium, driven
by Selenium through Debian's chromedriver, opens the local board (wallboard-serve, the same
answers as the function) over DynamoDB Local holding a small center dated now, put there by the
real contact-state binary behind the local Runtime API; the Connect stand-in names its queues
and agents. Also the board's JSON contract, and what one board costs to read for a large center.

The stack's metrics (the latest lag, the lost events healed today) come from the CloudWatch
stand-in (tools/cloudwatch-standin: moto's CloudWatch does not speak the Smithy RPC v2 CBOR
protocol the Rust SDK uses), holding the Lag and Healed figures the stack's metric filters would
have made of the log lines; it does not model the filters themselves.

Not here: the authorizer (API Gateway validates tokens; test_template.py checks every data
route has it, test_deploy.py that the stack makes it) and the sign-in redirect.

Run by `make test` (infra/test.sh sets the binaries' paths and DynamoDB Local's endpoint).
Screenshots: .local/run/wallboard-1920x1080.png and wallboard-phone.png (docs/wallboard.png
is a copy of the first).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))
import wallboard_center  # noqa: E402

RUN = ROOT / ".local/run"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
REFRESH_SECONDS = 1
NAMESPACE = "ConnectContactState"


def metrics_standin(now):
    """The CloudWatch stand-in, holding what the stack's metric filters would have made of
    today's log lines: the reconciler healed 2 + 1 lost events today (and 5 yesterday, not
    today's), and the latest minute's slowest event was applied 1,234 ms after its time. "Today"
    is the browser's: this machine's time zone, as chromium's. Returns the process and its URL."""
    midnight = time.mktime(time.localtime(now)[:3] + (0, 0, 0, 0, 0, -1))
    if now - midnight < 180:  # too close to midnight for two points today
        time.sleep(180 - (now - midnight))
        now = time.time()
    latest_minute = (now - 60) // 60 * 60  # a whole minute, over: its two lags are the latest
    held = [("Healed", now - 90, 2), ("Healed", midnight + 90, 1), ("Healed", midnight - 600, 5),
            ("Lag", latest_minute - 240, 980), ("Lag", latest_minute + 5, 1234), ("Lag", latest_minute + 10, 860)]
    path = Path(tempfile.mkstemp(suffix=".json")[1])
    path.write_text(json.dumps([{"namespace": NAMESPACE, "metricName": name, "timestamp": at, "value": value}
                                for name, at, value in held]))
    return start_line([binary("cloudwatch-standin"), str(path)])


def binary(name):
    return os.environ[f"{name.upper().replace('-', '_')}_BINARY"]


def create_table(table):
    subprocess.run([sys.executable, str(ROOT / "infra/create_table.py"), "--table", table],
                   check=True, stdout=subprocess.DEVNULL)


def apply(table, events):
    """The events, through the real contact-state binary behind the local Runtime API."""
    with tempfile.TemporaryDirectory() as work:
        paths = []
        for n, e in enumerate(events):
            path = Path(work) / f"{n:05d}.json"
            path.write_text(json.dumps(e))
            paths.append(str(path))
        env = dict(os.environ, AWS_LAMBDA_LOG_LEVEL="WARN")
        subprocess.run([binary("local-lambda"), "--function", binary("contact-state"), "--table", table, *paths],
                       check=True, env=env, stdout=subprocess.DEVNULL)


def start_line(command, env=None):
    """Starts `command` and returns it with the first line it prints (its address)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    line = process.stdout.readline().strip()
    if not line:
        process.kill()
        raise RuntimeError(f"{command[0]} printed no address")
    return process, line


def start_wallboard(table, standin, metrics=None):
    env = dict(os.environ, TABLE_NAME=table, WALLBOARD_PORT="0", AWS_ENDPOINT_URL_CONNECT=standin,
               WALLBOARD_REFRESH_SECONDS=str(REFRESH_SECONDS))
    if metrics:
        env.update(AWS_ENDPOINT_URL_CLOUDWATCH=metrics, METRICS_NAMESPACE=NAMESPACE, RECONCILE_EVERY_MINUTES="5")
    process, line = start_line([binary("wallboard-serve")], env)
    return process, line.split(" at ", 1)[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def relative_luminance(rgb):
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def rgb(css):
    """`rgb(1, 2, 3)` or `rgba(1, 2, 3, 1)` as a tuple."""
    return tuple(int(float(v)) for v in css[css.index("(") + 1:css.index(")")].split(",")[:3])


class Center:
    """A table holding a center, the stand-in naming it, and a wallboard over it."""

    def __init__(self, kind, metrics=None):
        self.table = f"wallboard-{kind}-{uuid.uuid4().hex[:8]}"
        create_table(self.table)
        self.now = time.time()
        events, names = wallboard_center.center(kind, self.now)
        apply(self.table, events)
        self.names_file = Path(tempfile.mkstemp(suffix=".json")[1])
        self.names_file.write_text(json.dumps(names))
        self.standin, self.standin_url = start_line([binary("connect-standin"), str(self.names_file)])
        self.server, self.url = start_wallboard(self.table, self.standin_url, metrics)

    def stop(self):
        for process in (self.server, self.standin):
            process.kill()
            process.wait()
            process.stdout.close()
        self.names_file.unlink()


class WallboardInABrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cloudwatch, cloudwatch_url = metrics_standin(time.time())
        cls.addClassCleanup(cls.cloudwatch.kill)
        cls.center = Center("small", cloudwatch_url)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--disable-default-apps", "--window-size=1920,1080"]:
            options.add_argument(flag)
        cls.driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        started = time.monotonic()
        cls.driver.get(cls.center.url)
        cls.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "#queue-list .queue"))
        cls.load_seconds = time.monotonic() - started
        print(f"\nwallboard: first board shown {cls.load_seconds * 1000:.0f} ms after the page was asked for",
              file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        cls.center.stop()

    @classmethod
    def wait_for(cls, condition, timeout=15):
        return WebDriverWait(cls.driver, timeout, poll_frequency=0.2).until(condition)

    # The page re-renders every second: what it shows is read in one script, never through
    # element handles a render may have replaced.
    SNAPSHOT = """
        const text = (root, selector) => { const e = root.querySelector(selector); return e ? e.textContent : null; };
        return {
          queues: [...document.querySelectorAll('#queue-list .queue')].map(q => ({
            name: text(q, '.queue-name'), count: text(q, '.waiting-count'), oldest: text(q, '.oldest-wait'),
            contacts: [...q.querySelectorAll('ol.waiting li')].map(li => ({
              id: li.dataset.contactId, level: li.dataset.level, text: li.textContent })) })),
          agents: [...document.querySelectorAll('#agents tbody tr[data-arn]')].map(r => ({
            name: text(r, '.agent-name'), contact: r.dataset.contactId, level: r.dataset.level,
            phase: text(r, '.phase'), withAgent: text(r, '.with-agent') })),
          main: document.querySelector('main').textContent,
        };"""

    def snapshot(self):
        return self.driver.execute_script(self.SNAPSHOT)

    def queue(self, name, snapshot=None):
        for queue in (snapshot or self.snapshot())["queues"]:
            if queue["name"] == name:
                return queue
        self.fail(f"no queue named {name}")

    def agent(self, name, snapshot=None):
        for agent in (snapshot or self.snapshot())["agents"]:
            if agent["name"] == name:
                return agent
        self.fail(f"no agent named {name}")

    def test_each_queue_shows_by_name_its_waiting_count_oldest_wait_and_callers_in_arrival_order(self):
        board = self.snapshot()
        self.assertEqual([q["name"] for q in board["queues"]], ["Billing", "Callbacks", "Sales", "Support"])
        sales = self.queue("Sales", board)
        self.assertEqual(sales["count"], "3")
        self.assertRegex(sales["oldest"], r"^Oldest wait 3m [2-5]\ds")
        self.assertEqual([c["id"] for c in sales["contacts"]], [wallboard_center.contact_id(n) for n in (1, 2, 3)])
        self.assertIn("VOICE", sales["contacts"][0]["text"])
        self.assertEqual(self.queue("Callbacks", board)["oldest"], "Nobody waiting")
        self.assertNotIn("arn:aws:connect", board["main"])

    def test_waits_past_the_thresholds_are_amber_then_red_and_say_so_in_words(self):
        board = self.snapshot()
        sales = self.queue("Sales", board)["contacts"]
        self.assertEqual([c["level"] for c in sales], ["red", "amber", "ok"])
        self.assertIn("over red threshold", sales[0]["text"])
        self.assertIn("over amber threshold", sales[1]["text"])
        self.assertEqual(self.queue("Billing", board)["contacts"][0]["level"], "amber")
        self.assertEqual(self.queue("Support", board)["contacts"][0]["level"], "ok")

    def test_a_supervisor_can_set_the_thresholds_on_the_page(self):
        amber = self.driver.find_element(By.ID, "wait-amber")
        amber.clear()
        amber.send_keys("10\n")
        self.driver.execute_script("document.getElementById('wait-amber').dispatchEvent(new Event('change'))")
        try:
            self.wait_for(lambda d: self.queue("Support")["contacts"][0]["level"] == "amber")
        finally:
            amber.clear()
            self.driver.execute_script(
                "localStorage.removeItem('wallboard-thresholds');"
                "document.getElementById('wait-amber').dispatchEvent(new Event('change'))")

    def test_each_agent_shows_by_name_the_contact_its_phase_and_time_with_the_agent(self):
        expected = {
            "alice": ("with agent", "ok", 11),
            "bob": ("paused", "ok", 12),
            "carol": ("after-contact work", "amber", 13),
            "dave": ("with agent", "red", 14),
        }
        board = self.snapshot()
        self.assertEqual([a["name"] for a in board["agents"]], list(expected))
        for name, (phase, level, contact) in expected.items():
            agent = self.agent(name, board)
            self.assertEqual((agent["phase"], agent["level"]), (phase, level), name)
            self.assertEqual(agent["contact"], wallboard_center.contact_id(contact))
        self.assertRegex(self.agent("alice", board)["withAgent"], r"^2m [0-5]\ds")

    def test_the_board_says_how_fresh_it_is_the_latest_events_lag_and_the_lost_events_healed_today(self):
        facts = self.driver.execute_script("""
            return Object.fromEntries([...document.querySelectorAll('#freshness [data-fact]')]
              .map(e => [e.dataset.fact, e.textContent]));""")
        self.assertRegex(facts["updated"], r"^Updated \d\d:\d\d:\d\d")
        self.assertRegex(facts["newest"], r"^newest event (\d+m )?\d+s ago$")
        # The latest minute's slowest, not the largest of the last minutes (980 ms earlier).
        self.assertRegex(facts["lag"], r"^events applied within 1\.2 s of their time \(\d\d:\d\d:00( [AP]M)? minute\)$")
        self.assertEqual(facts["healed"], "3 lost events healed today")
        self.assertFalse(self.driver.find_element(By.ID, "stale").is_displayed())

    def test_an_event_applied_while_the_page_is_open_appears_without_a_reload(self):
        marker = self.driver.execute_script("return window.performance.timeOrigin")
        contact = "99999999-2222-4222-8222-222222222222"
        ((_, _, channel, at, detail),) = wallboard_center.waiting_events(contact, "CHAT", 2, 2, time.time())
        apply(self.center.table, [wallboard_center.event(9999, "QUEUED", contact, channel, at, detail)])
        self.wait_for(lambda d: contact in [c["id"] for c in self.queue("Support")["contacts"]])
        support = self.queue("Support")
        self.assertEqual(support["count"], "2")
        self.assertEqual(support["contacts"][-1]["id"], contact, "the newest arrival is last")
        self.assertEqual(self.driver.execute_script("return window.performance.timeOrigin"), marker, "no reload")

    def test_the_page_fits_a_phone_and_a_1080p_screen_and_saves_their_screenshots(self):
        RUN.mkdir(parents=True, exist_ok=True)
        try:
            for (width, height), name in [((390, 844), "phone"), ((1920, 1080), "1920x1080")]:
                self.driver.set_window_size(width, height)
                self.wait_for(lambda d: d.execute_script("return window.innerWidth") <= width)
                overflow = self.driver.execute_script(
                    "return document.documentElement.scrollWidth - window.innerWidth")
                self.assertLessEqual(overflow, 0, f"{name}: scrolls sideways by {overflow}px")
                self.driver.save_screenshot(str(RUN / f"wallboard-{name}.png"))
        finally:
            self.driver.set_window_size(1920, 1080)

    def test_text_contrast_is_at_least_wcag_aa_and_controls_and_regions_are_labelled(self):
        selectors = ["body", "#freshness", "li.level-amber", "li.level-red", ".oldest-wait.level-ok", "#agents th",
                     "tr.level-red td"]
        colours = self.driver.execute_script("""
            return arguments[0].map(selector => {
              let e = document.querySelector(selector);
              const ink = getComputedStyle(e).color;
              while (e) { const c = getComputedStyle(e).backgroundColor;
                if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return [ink, c]; e = e.parentElement; }
              return [ink, 'rgb(255, 255, 255)'];
            });""", selectors)
        for selector, (ink, background) in zip(selectors, colours):
            self.assertGreaterEqual(contrast(rgb(ink), rgb(background)), 4.5, selector)
        for field in self.driver.find_elements(By.CSS_SELECTOR, "input"):
            self.assertTrue(self.driver.execute_script("return arguments[0].labels.length", field),
                            field.get_attribute("id"))
        for section in self.driver.find_elements(By.CSS_SELECTOR, "section"):
            heading = self.driver.find_element(By.ID, section.get_attribute("aria-labelledby"))
            self.assertEqual(heading.tag_name, "h2")
        self.assertEqual(self.driver.find_element(By.ID, "freshness").get_attribute("role"), "status")
        self.assertEqual(self.driver.find_element(By.ID, "stale").get_attribute("role"), "alert")


class WallboardGoesStale(unittest.TestCase):
    def test_when_the_api_stops_answering_the_page_keeps_the_board_and_says_it_is_stale(self):
        center = Center("small")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        try:
            driver.get(center.url)
            wait = WebDriverWait(driver, 15, poll_frequency=0.2)
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#queue-list .queue"))
            center.server.kill()
            center.server.wait()
            wait.until(lambda d: d.find_element(By.ID, "stale").is_displayed())
            stale = driver.find_element(By.ID, "stale").text
            self.assertIn("Stale: the board could not be refreshed since", stale)
            self.assertIn("the API did not answer", stale)
            self.assertEqual(len(driver.find_elements(By.CSS_SELECTOR, "#queue-list .queue")), 4, "board kept")
        finally:
            driver.quit()
            center.stop()


class BoardApi(unittest.TestCase):
    """The JSON contract of docs/wallboard.md, and the read cost of one board."""

    @classmethod
    def setUpClass(cls):
        cls.center = Center("small")

    @classmethod
    def tearDownClass(cls):
        cls.center.stop()

    def test_the_board_is_one_call_with_the_documented_fields(self):
        status, headers, body = get(self.center.url + "board")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        board = json.loads(body)
        self.assertEqual(set(board), {"generatedAt", "thresholds", "queues", "agents", "freshness", "reads"})
        self.assertEqual(board["thresholds"], {"waitAmberSeconds": 60, "waitRedSeconds": 180,
                                               "contactAmberSeconds": 600, "contactRedSeconds": 1200})
        sales = next(q for q in board["queues"] if q["name"] == "Sales")
        self.assertEqual(set(sales), {"arn", "name", "waiting", "oldestWaitSeconds", "contacts"})
        self.assertEqual(set(sales["contacts"][0]), {"position", "contactId", "channel", "since", "waitSeconds"})
        self.assertEqual([c["position"] for c in sales["contacts"]], [1, 2, 3])
        carol = next(a for a in board["agents"] if a["name"] == "carol")
        self.assertEqual(set(carol["contacts"][0]), {"contactId", "channel", "phase", "since", "withAgentSeconds"})
        self.assertEqual(carol["contacts"][0]["phase"], "after-contact work")
        self.assertEqual(set(board["freshness"]), {"newestEntryAt", "newestEntryAgeSeconds", "leftOut", "horizonHours",
                                                   "metrics", "lagMaxMs", "lagMinute", "healed", "healedSince",
                                                   "reconcileEveryMinutes"})
        # This center's wallboard has no metrics (as `make wallboard`): neither is counted, and
        # the board says so rather than 0.
        self.assertEqual((board["freshness"]["metrics"], board["freshness"]["healed"], board["freshness"]["lagMaxMs"]),
                         ("off", None, None))
        self.assertEqual(set(board["reads"]), {"requests", "readUnits", "truncated", "namesFromConnect"})
        self.assertTrue(board["reads"]["namesFromConnect"])
        self.assertEqual(board["reads"]["requests"], 2, "one Scan page of each view")

    def test_healed_today_starts_at_the_asked_midnight_and_a_wrong_one_is_refused(self):
        midnight = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime())
        _, _, body = get(self.center.url + "board?healedSince=" + urllib.parse.quote(midnight))
        self.assertEqual(json.loads(body)["freshness"]["healedSince"], midnight)
        with self.assertRaises(urllib.error.HTTPError) as refused:
            get(self.center.url + "board?healedSince=yesterday")
        self.assertEqual(refused.exception.code, 400)
        self.assertIn("healedSince must be an RFC 3339 time", json.loads(refused.exception.read())["message"])

    def test_no_customer_data_is_on_the_board(self):
        _, _, body = get(self.center.url + "board")
        for absent in ["+1555", "tags", "customer", "systemEndpoint", "disconnectReason"]:
            self.assertNotIn(absent, body.decode())

    def test_the_page_is_the_crates_own_with_a_strict_content_security_policy(self):
        status, headers, body = get(self.center.url)
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/html"))
        self.assertIn("connect-src 'self'", headers["content-security-policy"])
        self.assertIn(b"Contact center wallboard", body)
        with self.assertRaises(urllib.error.HTTPError) as refused:
            get(self.center.url + "elsewhere")
        self.assertEqual(refused.exception.code, 404)

    def test_one_board_of_a_large_center_is_two_scan_pages_of_a_few_dozen_read_units(self):
        large = Center("large")
        try:
            started = time.monotonic()
            _, _, body = get(large.url + "board")
            elapsed = time.monotonic() - started
            board = json.loads(body)
            self.assertEqual(len(board["queues"]), 50)
            self.assertEqual(sum(q["waiting"] for q in board["queues"]), 500)
            self.assertEqual(len(board["agents"]), 200)
            reads = board["reads"]
            refreshes_a_month = 30 * 24 * 3600 / 5
            # On-demand reads: $0.125 per million read request units (us-east-1).
            dollars = reads["readUnits"] * refreshes_a_month * 0.125 / 1e6
            # DynamoDB bills an index read by its entries' size (names and values of the keys and
            # projected attributes), eventually consistent: 0.5 unit per 4 KB.
            def entry(place_attribute, place, since_attribute, contact):
                return (len("contactId") + len(contact["contactId"]) + len(place_attribute) + len(place)
                        + len(since_attribute) + len(contact["since"]) + len("state") + len("CONNECTED_TO_AGENT")
                        + len("channel") + len(contact["channel"] or ""))
            index_bytes = [
                sum(entry("queuedIn", q["arn"], "enqueueTimestamp", c) for q in board["queues"] for c in q["contacts"]),
                sum(entry("withAgent", a["arn"], "connectedToAgentTimestamp", c)
                    for a in board["agents"] for c in a["contacts"]),
            ]
            billed = sum(0.5 * -(-b // 4096) for b in index_bytes)
            billed_dollars = billed * refreshes_a_month * 0.125 / 1e6
            figure = (f"wallboard read cost: 50 queues, 500 waiting, 200 agents: {reads['requests']} requests; "
                      f"DynamoDB Local counts {reads['readUnits']:.1f} read units a board "
                      f"(${dollars:.2f} a month at one board every 5 s); the index entries are "
                      f"{sum(index_bytes) / 1024:.0f} KB, {billed:.1f} read units as DynamoDB bills them "
                      f"(${billed_dollars:.2f} a month); the board is {len(body) / 1024:.0f} KB of JSON, "
                      f"read in {elapsed * 1000:.0f} ms")
            print("\n" + figure, file=sys.stderr)
            RUN.mkdir(parents=True, exist_ok=True)
            (RUN / "wallboard-cost.txt").write_text(figure + "\n")
            self.assertEqual(reads["requests"], 2)
            # DynamoDB Local counts the base items' size; DynamoDB bills the projected index
            # entries, which are smaller: this bound holds for both.
            self.assertLess(reads["readUnits"], 80)
        finally:
            large.stop()


if __name__ == "__main__":
    unittest.main()
