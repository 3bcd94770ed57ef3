/** @odoo-module */

import { registry } from "@web/core/registry";
import { graphView } from "@web/views/graph/graph_view";
import { GraphRenderer } from "@web/views/graph/graph_renderer";

// One colour per installment status, whatever order the groups come in:
// Odoo colours datasets by position (and the statuses come in alphabetical
// order of their keys), which painted Late blue and Pending red.
export const STATUS_COLORS = {
    late: "#EA6175", // red
    partial: "#F4A261", // orange
    pending: "#4EA7F2", // blue
    paid: "#43C5B1", // teal
};

function datasetStatus(dataset) {
    for (const identifier of dataset.identifiers || []) {
        for (const value of JSON.parse(identifier)) {
            if (value && typeof value === "object" && "state" in value) {
                return value.state;
            }
        }
    }
    return undefined;
}

export class InstallmentStatusGraphRenderer extends GraphRenderer {
    getBarChartData() {
        const data = super.getBarChartData();
        for (const dataset of data.datasets) {
            const color = STATUS_COLORS[datasetStatus(dataset)];
            if (color) {
                dataset.backgroundColor = color;
            }
        }
        return data;
    }

    getLineChartData() {
        const data = super.getLineChartData();
        for (const dataset of data.datasets) {
            const color = STATUS_COLORS[datasetStatus(dataset)];
            if (color) {
                dataset.borderColor = color;
            }
        }
        return data;
    }
}

registry.category("views").add("installment_status_graph", {
    ...graphView,
    Renderer: InstallmentStatusGraphRenderer,
});
