"""Training test helpers: a tiny Llama (2 layers, 32 wide) with a byte-level BPE tokenizer and a
ChatML template like SmolLM2's (pad == eos), built offline in a second; and small record sets."""

from __future__ import annotations

from pathlib import Path

from codeinstruct.core.records import Record

CHATML = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

CORPUS = [
    "def add(a, b):\n    return a + b\n",
    "Write a Python function that reverses a string.",
    "def reverse(s):\n    return s[::-1]\n",
    "Return the maximum of a list of numbers.",
    "def largest(xs):\n    return max(xs)\n",
    "for i in range(10):\n    print(i * i)\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n",
    # Single-token Yes/No answers, which the transformers engine needs for LM-Score.
    "Yes No Yes No yes no",
]


def build_tiny_model(path: Path, seed: int = 0) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS * 20, trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|im_end|>",
                                        bos_token="<|im_start|>", unk_token="<|endoftext|>")
    tokenizer.chat_template = CHATML
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def make_records(n: int, tag: str = "") -> list[Record]:
    records = []
    for i in range(n):
        name = f"f{tag}{i}"
        code = f"def {name}(x):\n    return x * {i + 2}\n"
        records.append(Record(method="seed", instruction=f"Write a function {name} that multiplies x by {i + 2}.",
                              response=f"```python\n{code}```", code=code, entry_point=name))
    return records
