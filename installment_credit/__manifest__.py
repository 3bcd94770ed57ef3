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
        "security/billing_security.xml",
        "data/billing_data.xml",
        "views/res_partner_billing_views.xml",
        "views/res_config_settings_billing_views.xml",
        "wizards/billing_wizards_views.xml",
    ],
    "demo": [
        "demo/billing_demo.xml",
    ],
    "installable": True,
    "application": False,
}
