/** @odoo-module */

import { registry } from "@web/core/registry";

// The invoice list: an invoice with a late installment shows as overdue (red
// due date and status) and Odoo's Overdue filter keeps it; an invoice whose
// plan is on time does not.
registry.category("web_tour.tours").add("installment_credit_invoice_list_overdue", {
    steps: () => [
        {
            content: "The late plan's due date is red",
            trigger: ".o_data_row:contains(Screens Late Customer) td[name=invoice_date_due] .text-danger",
        },
        {
            content: "Its status is red",
            trigger: ".o_data_row:contains(Screens Late Customer) td[name=status_in_payment] .badge.text-bg-danger",
        },
        {
            content: "The plan on time is not overdue",
            trigger: ".o_data_row:contains(Screens On Time Customer) td[name=status_in_payment] .badge:not(.text-bg-danger)",
        },
        {
            content: "Open the search menu",
            trigger: ".o_control_panel_actions .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Filter on Overdue",
            trigger: ".o_filter_menu .dropdown-item:contains(Overdue)",
            run: "click",
        },
        {
            content: "The late plan's invoice is overdue",
            trigger: ".o_searchview_facet:contains(Overdue)",
        },
        {
            content: "The invoice with a late installment is listed",
            trigger: ".o_data_row:contains(Screens Late Customer)",
        },
        {
            content: "The plan on time is not",
            trigger: ".o_list_renderer:not(:has(.o_data_row:contains(Screens On Time Customer)))",
        },
    ],
});

// The portal invoice page: one figure due now, with one label, everywhere.
registry.category("web_tour.tours").add("installment_credit_portal_due_now", {
    steps: () => [
        {
            content: "The sidebar says Due now",
            trigger: "h5[name=installment_title]:contains(Due now)",
        },
        {
            content: "with the figure of the late and due installments",
            trigger: "h4[name=installment_amount]:contains(1,000.00)",
        },
        {
            content: "and what it is made of",
            trigger: ".o_installment_due_now_detail:contains(500.00 late since):contains(500.00 due today)",
        },
        {
            content: "The schedule says the same sentence",
            trigger: "#installment_plan_schedule .o_installment_due_now:contains(Due now):contains(1,000.00):contains(late since)",
        },
        {
            content: "No second figure for what is late",
            trigger: "#installment_plan_schedule:not(:contains(Late: ))",
        },
    ],
});

// The receivables aging says for which date it is.
registry.category("web_tour.tours").add("installment_credit_aging_title", {
    steps: () => [
        {
            content: "Choose the date",
            trigger: ".modal div[name=date] input",
            run: "edit 11/25/2026",
        },
        {
            content: "Open the report",
            trigger: ".modal button[name=action_open]",
            run: "click",
        },
        {
            content: "The breadcrumb carries the as-of date",
            trigger: ".o_breadcrumb:contains(Receivables Aging as of 11/25/2026)",
        },
    ],
});

// The installments graph: each status keeps its colour (Late red, Pending
// blue), whatever order Odoo groups them in.
registry.category("web_tour.tours").add("installment_credit_status_graph_colors", {
    steps: () => [
        {
            content: "Switch to the graph",
            trigger: ".o_control_panel .o_switch_view.o_graph",
            run: "click",
        },
        {
            content: "The graph is drawn",
            trigger: ".o_graph_renderer canvas",
            run() {
                const canvas = document.querySelector(".o_graph_renderer canvas");
                const chart = window.Chart && window.Chart.getChart(canvas);
                if (!chart) {
                    throw new Error("no chart on the installments graph");
                }
                const colors = {};
                for (const dataset of chart.data.datasets) {
                    colors[dataset.label] = dataset.backgroundColor;
                }
                if (colors.Late !== "#EA6175" || colors.Pending !== "#4EA7F2") {
                    throw new Error(`wrong status colours: ${JSON.stringify(colors)}`);
                }
            },
        },
    ],
});
