#!/usr/bin/env python3
"""Loads fedtune adapters into PEFT on Hugging Face transformers, as a user of the peer would, and scores them on
token ids: the check that fedtune's adapter_model.safetensors and adapter_config.json are PEFT's format as-is and that
fedtune computes what transformers computes.

For each case: AutoModelForCausalLM.from_pretrained(base) (float32, eager attention: the reference implementation),
PeftModel.from_pretrained(model, adapter); every lora_A/lora_B tensor of the file must be the one PEFT put into the
model, and the model must have no LoRA weight the file lacks. Then the mean negative log-likelihood per scored token
(loss[t] true: token t is predicted from tokens < t) over the sequences, with the adapter and without it.

Usage: peft_interop.py CASES.json   (a list of {"name", "base", "adapter", "sequences": [{"ids": [...], "loss": [...]}]})
Prints one JSON line: {name: {"meanLoss", "baseMeanLoss", "tokens", "loraTensors"}}, or exits 1 naming the mismatch.
"""
import json
import sys

import torch


def mean_loss(model, sequences):
    total = 0.0
    tokens = 0
    with torch.no_grad():
        for s in sequences:
            ids = torch.tensor([s["ids"]])
            logits = model(input_ids=ids[:, :-1]).logits.double()[0]
            nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")
            mask = torch.tensor(s["loss"][1:], dtype=torch.bool)
            total += nll[mask].sum().item()
            tokens += int(mask.sum())
    return total / tokens, tokens


def check_loaded(model, adapter_dir):
    """Every factor in the file is the one PEFT loaded, under PEFT's name for it, and PEFT has no other LoRA weight."""
    from safetensors.torch import load_file
    saved = load_file(f"{adapter_dir}/adapter_model.safetensors")
    loaded = {n: p for n, p in model.named_parameters() if ".lora_A." in n or ".lora_B." in n}
    expected = {n.replace(".weight", ".default.weight"): t for n, t in saved.items()}
    if set(expected) != set(loaded):
        missing = sorted(set(loaded) - set(expected))[:3]
        extra = sorted(set(expected) - set(loaded))[:3]
        raise SystemExit(f"{adapter_dir}: PEFT's LoRA weights and the file's differ: not in the file {missing}, "
                         f"not in the model {extra}")
    for n, t in expected.items():
        if not torch.equal(loaded[n].detach().cpu(), t):
            raise SystemExit(f"{adapter_dir}: {n} as PEFT loaded it differs from the file")
    return len(saved)


def main():
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(1)
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    out = {}
    for case in cases:
        base = AutoModelForCausalLM.from_pretrained(case["base"], dtype=torch.float32, attn_implementation="eager")
        model = PeftModel.from_pretrained(base, case["adapter"])
        model.eval()
        tensors = check_loaded(model, case["adapter"])
        loss, tokens = mean_loss(model, case["sequences"])
        with model.disable_adapter():
            base_loss, _ = mean_loss(model, case["sequences"])
        out[case["name"]] = {"meanLoss": loss, "baseMeanLoss": base_loss, "tokens": tokens, "loraTensors": tensors,
                             "architecture": base.config.architectures[0]}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
