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
        "security/credit_security.xml",
        "data/credit_cron.xml",
        "data/credit_mail_template.xml",
        "views/credit_type_views.xml",
        "views/credit_package_views.xml",
        "views/credit_grant_views.xml",
        "views/credit_consumption_views.xml",
        "views/credit_report_views.xml",
        "views/res_partner_credit_views.xml",
        "views/account_move_credit_views.xml",
        "views/res_config_settings_credit_views.xml",
        "wizards/credit_consumption_register_views.xml",
        "wizards/credit_package_sell_views.xml",
        "views/credit_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "installment_credit/static/tests/tours/**/*",
        ],
    },
    "demo": [
        "demo/credit_demo.xml",
    ],
    "installable": True,
    "application": False,
}
