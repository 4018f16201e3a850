package io.fedtune.operator.shard;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.v1alpha1.ParticipationSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ShardSelectionTest {
    private final List<String> shards = IntStream.range(0, 20).mapToObj(i -> "s" + i).toList();

    @Test
    void sampleIsSeededByRoundAndBounded() {
        ParticipationSpec p = new ParticipationSpec();
        p.fraction = 0.3;
        List<String> round1 = ShardSelection.sample(shards, p, 7, 1);
        assertThat(round1).hasSize(6).isEqualTo(ShardSelection.sample(shards, p, 7, 1)).isSorted();
        assertThat(ShardSelection.sample(shards, p, 7, 2)).isNotEqualTo(round1);
        assertThat(ShardSelection.sample(shards, p, 8, 1)).isNotEqualTo(round1);
        p.maxShardsPerRound = 2;
        assertThat(ShardSelection.sample(shards, p, 7, 1)).hasSize(2);
    }

    @Test
    void addingAShardDoesNotReshuffleTheOthers() {
        ParticipationSpec p = new ParticipationSpec();
        p.fraction = 0.5;
        List<String> before = ShardSelection.sample(shards, p, 1, 3);
        List<String> more = new ArrayList<>(shards);
        more.add("s-new");
        List<String> after = ShardSelection.sample(more, p, 1, 3);
        assertThat(after.stream().filter(s -> !s.equals("s-new")).filter(before::contains).count()).isGreaterThanOrEqualTo(before.size() - 1);
    }
}
