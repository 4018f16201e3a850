package io.fedtune.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** One data owner's dataset. Its data never leaves its silo: only adapters trained on it do. */
@Group(FederatedRun.GROUP)
@Version(FederatedRun.VERSION)
@ShortNames({"shard", "cshard"})
@Categories({"fedtune"})
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Reason", jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Paused", jsonPath = ".spec.paused", type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(name = "Last Round", jsonPath = ".status.lastRound", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Samples", jsonPath = ".status.samples", type = AdditionalPrinterColumn.Type.INTEGER, priority = 1)
@AdditionalPrinterColumn(name = "Train Loss", jsonPath = ".status.trainLoss", type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class ClientShard extends CustomResource<ClientShardSpec, ClientShardStatus> implements Namespaced {

    @Override
    protected ClientShardStatus initStatus() {
        return new ClientShardStatus();
    }
}
