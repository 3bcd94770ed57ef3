/** @odoo-module */

import { registry } from "@web/core/registry";

// Tour 4 (installments part): a portal customer opens My Account, then
// Installments, and sees the late installment highlighted.
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
    ],
});
