package io.fedtune.trainer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.api.v1alpha1.BaseQuantization;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BenchTableTest {
    @Test
    void settingsParseAndQuantizedOnesAlwaysRecompute() {
        assertThat(BenchCommand.Setting.parse("None")).isEqualTo(new BenchCommand.Setting("None", BaseQuantization.None, false));
        assertThat(BenchCommand.Setting.parse("None+recompute").recompute()).isTrue();
        assertThat(BenchCommand.Setting.parse("Int4").recompute()).isTrue();
        assertThatThrownBy(() -> BenchCommand.Setting.parse("Int3")).hasMessageContaining("--quantization Int3");
        assertThatThrownBy(() -> BenchCommand.Setting.parse("Int8+fast")).hasMessageContaining("None+recompute");
    }

    @Test
    void theTableGivesRatiosToTheFirstSetting() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> rows = List.of(
                json.readTree("{\"setting\":\"None\",\"baseWeightsMiB\":400,\"peakRssMiB\":2000,\"tokensPerSecond\":100,\"mfu\":0.5,\"firstLoss\":10.5,\"lastLoss\":10.4}"),
                json.readTree("{\"setting\":\"Int4\",\"baseWeightsMiB\":100,\"peakRssMiB\":1000,\"tokensPerSecond\":60,\"mfu\":0.4,\"firstLoss\":10.5,\"lastLoss\":10.4}"));
        String table = BenchCommand.table(rows);
        assertThat(table).contains("| None | 400 MiB (1.00x) | 2,000 MiB (1.00x) | 100.00 (1.00x) | 0.50 (1.00x) | 10.5000 | 10.4000 |");
        assertThat(table).contains("| Int4 | 100 MiB (0.25x) | 1,000 MiB (0.50x) | 60.00 (0.60x) | 0.40 (0.80x) |");
    }
}
