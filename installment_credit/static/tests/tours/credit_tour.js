/** @odoo-module */

import { registry } from "@web/core/registry";

// From the customer's form: open the Credits tab, register a consumption with
// the wizard and see the balance go down.
registry.category("web_tour.tours").add("installment_credit_register_consumption", {
    steps: () => [
        {
            content: "Open the Credits tab",
            trigger: ".o_notebook a.nav-link:contains(Credits)",
            run: "click",
        },
        {
            content: "The balance shows the 20 units granted",
            trigger: "div[name=credit_balance_ids] .o_data_row td[name=quantity_remaining]:contains(20)",
        },
        {
            content: "Register a consumption",
            trigger: "button[name=action_credit_register_consumption]",
            run: "click",
        },
        {
            content: "The wizard proposes the customer's only credit type",
            trigger: ".modal div[name=credit_type_id] input:value(Tour SMS)",
        },
        {
            content: "Consume 7 units",
            trigger: ".modal div[name=quantity] input",
            run: "edit 7",
        },
        {
            content: "Add a description",
            trigger: ".modal div[name=description] input",
            run: "edit Tour campaign",
        },
        {
            content: "Confirm",
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The history lists the consumption",
            trigger: "div[name=credit_consumption_ids] .o_data_row td[name=description]:contains(Tour campaign)",
        },
        {
            content: "The balance went down to 13",
            trigger: "div[name=credit_balance_ids] .o_data_row td[name=quantity_remaining]:contains(13)",
        },
    ],
});

// Quantities shown with their credit type's decimals: whole SMS, minutes in
// hundredths, on the customer's Credits tab and in the consumption wizard.
function expectText(selector, expected) {
    return {
        content: `${selector} reads ${expected}`,
        trigger: selector,
        run() {
            const text = this.anchor.textContent.trim() || this.anchor.value;
            if (text !== expected) {
                throw new Error(`${selector}: expected "${expected}", got "${text}"`);
            }
        },
    };
}

registry.category("web_tour.tours").add("installment_credit_quantity_display", {
    steps: () => [
        {
            content: "Open the Credits tab",
            trigger: ".o_notebook a.nav-link:contains(Credits)",
            run: "click",
        },
        expectText(
            "div[name=credit_balance_ids] .o_data_row:contains(Display SMS) td[name=quantity_remaining]",
            "1,000"
        ),
        expectText(
            "div[name=credit_balance_ids] .o_data_row:contains(Display minutes) td[name=quantity_remaining]",
            "5,962.50"
        ),
        expectText(
            "div[name=credit_grant_ids] .o_data_row:contains(Display SMS) td[name=quantity]",
            "1,000"
        ),
        {
            content: "Register a consumption",
            trigger: "button[name=action_credit_register_consumption]",
            run: "click",
        },
        {
            content: "Choose the SMS",
            trigger: ".modal div[name=credit_type_id] input",
            run: "edit Display SMS",
        },
        {
            trigger: ".ui-autocomplete a:contains(Display SMS)",
            run: "click",
        },
        expectText(".modal div[name=available] span", "1,000"),
        expectText(".modal div[name=quantity] input", "1"),
        {
            content: "Close the wizard",
            trigger: ".modal .btn-close",
            run: "click",
        },
    ],
});

// The Credit Balance pivot, for a customer holding two credit types: each
// type's cell in its own unit (no trailing zeros), the customer's total over
// both types left empty (it would add SMS to minutes).
registry.category("web_tour.tours").add("installment_credit_pivot_units", {
    steps: () => [
        {
            content: "The customer's row, its cells in the types' units",
            trigger: ".o_pivot table tbody tr:has(th:contains(Display Customer))",
            run() {
                const cells = [...this.anchor.querySelectorAll("td.o_pivot_cell_value")].map(
                    (cell) => cell.textContent.trim()
                );
                const last = cells.pop();
                if (last !== "") {
                    throw new Error(`the total over two units should be empty, got "${last}"`);
                }
                const values = cells.filter((text) => text).sort();
                if (JSON.stringify(values) !== JSON.stringify(["1,000", "5,962.5"])) {
                    throw new Error(`expected 1,000 and 5,962.5, got ${JSON.stringify(cells)}`);
                }
            },
        },
    ],
});
