package io.fedtune.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A federated LoRA fine-tuning run over the ClientShards that its selector matches. */
@Group(FederatedRun.GROUP)
@Version(FederatedRun.VERSION)
@ShortNames({"frun", "fedrun"})
@Categories({"fedtune"})
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Round", jsonPath = ".status.progress", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Stage", jsonPath = ".status.stage", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Metric", jsonPath = ".status.latestAdapter.evalMetric", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Score", jsonPath = ".status.latestAdapter.evalScore", type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(name = "Best", jsonPath = ".status.bestAdapter.evalScore", type = AdditionalPrinterColumn.Type.NUMBER, priority = 1)
@AdditionalPrinterColumn(name = "Shards", jsonPath = ".status.shards.selected", type = AdditionalPrinterColumn.Type.INTEGER, priority = 1)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class FederatedRun extends CustomResource<FederatedRunSpec, FederatedRunStatus> implements Namespaced {
    public static final String GROUP = "fedtune.io";
    public static final String VERSION = "v1alpha1";

    @Override
    protected FederatedRunStatus initStatus() {
        return new FederatedRunStatus();
    }
}
