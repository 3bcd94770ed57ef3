/** @odoo-module */

import { registry } from "@web/core/registry";

// Tour 4: a portal customer opens My Account, then Installments, and sees the
// late installment highlighted; then opens Credits and sees the balance.
registry.category("web_tour.tours").add("installment_credit_portal", {
    url: "/my",
    steps: () => [
        {
            content: "Open Installments from My Account",
            trigger: "a[href='/my/installments']",
            run: "click",
        },
        {
            content: "The late installment is highlighted",
            trigger: ".o_installment_schedule tr.o_installment_late:contains(Late)",
        },
        {
            content: "The plan shows the late amount",
            trigger: ".o_installment_late_amount:contains(Late)",
        },
        {
            content: "Back to My Account",
            trigger: ".o_portal_submenu a[href='/my/home']",
            run: "click",
        },
        {
            content: "Open Credits",
            trigger: "a[href='/my/credits']",
            run: "click",
        },
        {
            content: "The remaining balance and its unit",
            trigger: ".o_credit_balance:contains(Portal SMS):contains(SMS) .o_credit_remaining:contains(13)",
        },
        {
            content: "The consumption history",
            trigger: ".o_credit_history tr:contains(Portal campaign)",
        },
    ],
});
