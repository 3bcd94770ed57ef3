"""Regenerate the README's screenshots from a running Odoo with the demo data.

Usage (what ``./dev screenshots`` does): start the server on a free port, then
``python docs/screenshots.py --url http://localhost:PORT --db DB``. Drives
Debian's headless Chromium through the DevTools protocol (websocket-client),
logs in as admin (back office) and as the demo portal customer, and writes
PNG files into docs/screenshots/. Arabic is installed first (the Arabic portal
page); ``--only FILE`` writes a single screenshot.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

HERE = os.path.dirname(os.path.abspath(__file__))

# (file, login, path, selector to wait for, [(click selector, then wait for)])
SHOTS = [
    (
        "invoice_installments.png",
        "admin",
        "/odoo/action-installment_credit.installment_plan_action",
        ".o_list_view .o_data_row",
        [
            (".o_list_view .o_data_row td.o_data_cell", ".o_form_view"),
            (
                "button[name=action_open_invoice]",
                "button[name=action_view_installment_plan]",
            ),
            ("a[name=installments]", "div[name=installment_line_ids]"),
        ],
    ),
    (
        "installments_calendar.png",
        "admin",
        "/odoo/action-installment_credit.installment_plan_line_action?view_type=calendar",
        ".o_calendar_view",
        [],
    ),
    (
        "aging_pivot.png",
        "admin",
        "/odoo/action-installment_credit.installment_report_aging_action",
        ".o_pivot",
        [],
    ),
    (
        "partner_credits.png",
        "admin",
        "/odoo/res.partner/{base.res_partner_2}",
        "a[name=installment_credit_credits]",
        [("a[name=installment_credit_credits]", ".tab-pane.active")],
    ),
    (
        "portal_credits.png",
        "portal",
        "/my/credits",
        ".o_credit_balances",
        [],
    ),
    (
        "portal_installments.png",
        "portal",
        "/my/installments",
        ".o_installment_plan",
        [],
    ),
    # The same page in Arabic, right to left: the /ar/ prefix selects the
    # language (Arabic is installed first, see ensure_languages).
    (
        "portal_installments_ar.png",
        "portal",
        "/ar/my/installments",
        "html[dir=rtl] .o_installment_plan",
        [],
    ),
    (
        "invoice_list_late_installments.png",
        "admin",
        "/odoo/action-account.action_move_out_invoice_type",
        ".o_list_view .o_data_row",
        [],
    ),
    (
        "portal_invoice_installments.png",
        "portal",
        "/my/installments",
        ".o_installment_plan",
        [(".o_installment_plan .card-header a", "#installment_plan_schedule")],
    ),
]

# Languages the shots need, installed (with the add-on's translations) as admin.
LANGUAGES = ["ar_001"]


class Browser:
    def __init__(self, port=9333):
        self.profile = tempfile.mkdtemp(prefix="ic_shots_")
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not chromium:
            raise SystemExit("chromium is missing: apt-get install chromium")
        self.proc = subprocess.Popen(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1366,900",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _i in range(50):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/json", timeout=2
                ) as response:
                    pages = json.load(response)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("chromium did not start")
        page = next(p for p in pages if p["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.counter = 0

    def call(self, method, **params):
        self.counter += 1
        self.ws.send(
            json.dumps({"id": self.counter, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.counter:
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        return result.get("result", {}).get("value")

    def open(self, url, selector, timeout=30):
        self.call("Page.navigate", url=url)
        self.wait(selector, timeout)

    def click(self, selector, then, timeout=30):
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")
        self.wait(then, timeout)

    def wait(self, selector, timeout=30):
        url = self.evaluate("location.href")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(f"!!document.querySelector({json.dumps(selector)})"):
                time.sleep(1.0)  # let the view settle
                return
            time.sleep(0.3)
        failure = os.path.join(tempfile.gettempdir(), "ic_screenshot_failure.png")
        self.screenshot(failure)
        raise SystemExit(f"{url}: {selector} did not appear (see {failure})")

    def login(self, base, login, password):
        self.call("Network.clearBrowserCookies")
        self.open(f"{base}/web/login", "input[name=login]")
        self.evaluate(
            "document.querySelector('input[name=login]').value = %s;"
            "document.querySelector('input[name=password]').value = %s;"
            "document.querySelector('form.oe_login_form').submit();"
            % (json.dumps(login), json.dumps(password))
        )
        time.sleep(3)

    def resolve_xmlids(self, base, path):
        """Replace ``{module.name}`` in ``path`` by that record's id."""
        while "{" in path:
            xmlid = path[path.index("{") + 1 : path.index("}")]
            module, name = xmlid.split(".")
            self.open(f"{base}/odoo", ".o_web_client")
            res_id = self.evaluate(
                """(async () => {
                    const r = await fetch('/web/dataset/call_kw', {
                        method: 'POST', headers: {'Content-Type': 'application/json'},
                        body: JSON.stringify({jsonrpc: '2.0', method: 'call', params: {
                            model: 'ir.model.data', method: 'search_read',
                            args: [[['module', '=', %s], ['name', '=', %s]],
                                   ['res_id']],
                            kwargs: {}}})});
                    return (await r.json()).result[0].res_id;
                })()"""
                % (json.dumps(module), json.dumps(name))
            )
            if not isinstance(res_id, int):
                raise SystemExit(f"could not resolve {xmlid}: {res_id!r}")
            path = path.replace("{" + xmlid + "}", str(res_id))
        return path

    def ensure_languages(self, base, codes):
        """Install ``codes`` with their translations (Settings › Languages ›
        Add Languages, i.e. base.language.install); a no-op when installed."""
        self.open(f"{base}/odoo", ".o_web_client")
        result = self.evaluate(
            """(async () => {
                const call = async (model, method, args) => {
                    const r = await fetch('/web/dataset/call_kw', {
                        method: 'POST', headers: {'Content-Type': 'application/json'},
                        body: JSON.stringify({jsonrpc: '2.0', method: 'call', params: {
                            model, method, args, kwargs: {}}})});
                    const data = await r.json();
                    if (data.error) { throw new Error(JSON.stringify(data.error)); }
                    return data.result;
                };
                const langs = await call('res.lang', 'search_read',
                    [[['code', 'in', %s], ['active', '=', false]], ['id']]);
                if (!langs.length) { return 'installed'; }
                const ids = langs.map((l) => l.id);
                // Activated in a transaction of its own first: the translation
                // loader of the wizard's transaction would not see it active.
                await call('res.lang', 'write', [ids, {active: true}]);
                const wizard = await call('base.language.install', 'create',
                    [{lang_ids: [[6, 0, ids]]}]);
                await call('base.language.install', 'lang_install', [[wizard]]);
                return 'done';
            })()"""
            % json.dumps(codes)
        )
        if result not in ("installed", "done"):
            raise SystemExit(f"could not install {codes}: {result!r}")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))

    def close(self):
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--portal-login", default="portal")
    parser.add_argument(
        "--only",
        action="append",
        metavar="FILE",
        help="write only this screenshot (repeatable), e.g. portal_installments_ar.png",
    )
    args = parser.parse_args()
    shots = [shot for shot in SHOTS if not args.only or shot[0] in args.only]
    if not shots:
        raise SystemExit(f"no screenshot named {args.only}")
    browser = Browser()
    try:
        browser.call("Page.enable")
        browser.login(args.url, "admin", "admin")
        browser.ensure_languages(args.url, LANGUAGES)
        current = "admin"
        for filename, who, path, selector, clicks in shots:
            login = "admin" if who == "admin" else args.portal_login
            if login != current:
                browser.login(args.url, login, login)
                current = login
            browser.open(args.url + browser.resolve_xmlids(args.url, path), selector)
            for click, then in clicks:
                browser.click(click, then)
            target = os.path.join(HERE, "screenshots", filename)
            browser.screenshot(target)
            print("wrote", os.path.relpath(target))
    finally:
        browser.close()


if __name__ == "__main__":
    main()
