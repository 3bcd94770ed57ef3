/** @odoo-module */

import { registry } from "@web/core/registry";

// A portal customer opens their plan's page: the payment reference, when the
// schedule last changed and what changed (old → new); never the internal note.
registry.category("web_tour.tours").add("installment_credit_portal_history", {
    steps: () => [
        {
            content: "The plan shows the invoice's payment reference",
            trigger: ".o_installment_plan .o_installment_payment_reference:contains(RF18 5390)",
        },
        {
            content: "The page says when the schedule last changed",
            trigger: ".o_installment_history .o_installment_last_change",
        },
        {
            content: "The amount change, old and new",
            trigger: ".o_installment_history tr.o_installment_change:contains(Amount changed):contains(300.00):contains(200.00)",
        },
        {
            content: "The date change, old and new",
            trigger: ".o_installment_history tr.o_installment_change:contains(Due date changed):contains(04/10/2026):contains(04/20/2026)",
        },
        {
            content: "The internal note is nowhere on the page",
            trigger: "#wrap:not(:contains(Secret: agreed by phone))",
        },
    ],
});
