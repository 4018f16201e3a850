package io.fedtune.operator.run;

/** One step of the round state machine. A step either lets the next one look at the run, or ends this reconcile. */
interface RoundStep {
    enum Next {
        CONTINUE,
        STOP
    }

    Next apply(RunSnapshot s);
}
