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
    ],
    "installable": True,
    "application": False,
}
