from odoo.tests import HttpCase, tagged

# Opens the customer form, its Invoicing tab and the Top up dialog; any error
# of the web client fails the test.
PARTNER_FORM_JS = """
(async () => {
    const wait = async (selector) => {
        for (let i = 0; i < 200; i++) {
            const el = document.querySelector(selector);
            if (el) {
                return el;
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error("not rendered: " + selector);
    };
    (await wait(".o_notebook a[name='accounting']")).click();
    await wait(".o_group div[name='billing_mode']");
    await wait(".o_group div[name='auto_topup_enabled']");
    await wait(".o_group div[name='use_partner_credit_limit']");
    (await wait("button[name='action_prepaid_topup']")).click();
    await wait(".modal div[name='method']");
    console.log("test successful");
})();
"""


@tagged("post_install", "-at_install")
class TestBillingUi(HttpCase):
    def test_prepaid_customer_form(self):
        partner = self.env["res.partner"].create(
            {"name": "UI prepaid customer", "is_company": True}
        )
        partner.with_company(self.env.ref("base.main_company")).billing_mode = "prepaid"
        self.browser_js(
            "/odoo/action-account.res_partner_action_customer/%s" % partner.id,
            PARTNER_FORM_JS,
            login="admin",
        )
