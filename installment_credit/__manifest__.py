# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Installments & Credits",
    "summary": "Installment agreements on invoices, installment payment terms, "
    "prepaid/postpaid customers and credit packages",
    "version": "18.0.1.0.0",
    "category": "Accounting",
    "author": "Installment Credit Team",
    "website": "https://github.com/installment-credit/installment_credit",
    "license": "LGPL-3",
    "depends": ["account", "mail", "resource", "portal"],
    "external_dependencies": {"python": ["python-dateutil"]},
    "data": [
        "security/security.xml",
        "security/installment_security.xml",
        "security/portal_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "views/installment_plan_views.xml",
        "views/installment_plan_line_views.xml",
        "views/account_move_views.xml",
        "views/account_payment_term_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "wizards/installment_plan_create_views.xml",
        "wizards/installment_payment_register_views.xml",
        "report/report_invoice.xml",
        "views/portal_templates.xml",
        "views/menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "installment_credit/static/tests/tours/**/*",
        ],
    },
    "demo": [
        "demo/installment_demo.xml",
    ],
    "installable": True,
    "application": False,
}
