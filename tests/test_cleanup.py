"""Cleanup model: a tiny random T5, loaded by path through the registry, rewrites tag lines safely."""
from __future__ import annotations

import pytest

from perceive.models import resolve_value
from perceive.testing.tiny import tiny_cleanup as build_tiny
from prompting.cleanup import Cleanup, is_degenerate

LINES = [
    "person, person, dining table; two boys sitting at a table; arm wrestling (0.82)",
    "dog, skateboard; a dog riding a skateboard on the street",
    "",
    "man, guitar, guitar; a man playing a guitar in a room",
]


@pytest.fixture(scope="module")
def cleanup(tmp_path_factory):
    spec = resolve_value("cleanup", str(build_tiny(tmp_path_factory.mktemp("cleanup"))))
    return Cleanup(spec, "cpu", batch_size=3, max_new_tokens=12)


def test_tiny_model_loads_offline_and_is_marked_random(cleanup, tmp_path):
    from transformers import AutoTokenizer

    assert cleanup.spec.weights == "random" and cleanup.spec.source == "path"
    tok = AutoTokenizer.from_pretrained(cleanup.spec.location)
    ids = tok("a man riding a bike")["input_ids"]
    assert ids[-1] == tok.eos_token_id and tok.unk_token_id not in ids
    assert "{line}" not in cleanup.prompt("x") and cleanup.prompt("dog, cat").count("dog, cat") == 1


def test_generate_keeps_one_line_per_input(cleanup):
    raw = cleanup._generate([line for line in LINES if line])
    assert len(raw) == 3 and all(isinstance(r, str) for r in raw)
    out = cleanup.clean(LINES)
    assert len(out) == len(LINES)
    assert out[2] == ""
    for line, rewrite, generated in zip([x for x in LINES if x], [o for o in out if o], raw):
        # the contract: a degenerate rewrite is replaced by the raw line, a usable one is kept
        assert rewrite == (line if is_degenerate(line, generated) else generated.strip())


def test_random_model_never_destroys_context(cleanup):
    out = cleanup.clean(LINES)
    for line, rewrite in zip(LINES, out):
        assert rewrite == line or not is_degenerate(line, rewrite)
    assert cleanup.clean([]) == []


def _overfit(src, dst, pairs, steps=100):
    """Teach the tiny T5 a few rewrites (seconds on CPU), so its outputs become usable sentences."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    cleaner = Cleanup(resolve_value("cleanup", str(src)))
    tok, model = AutoTokenizer.from_pretrained(src), AutoModelForSeq2SeqLM.from_pretrained(src)
    x = tok([cleaner.prompt(raw) for raw, _ in pairs], return_tensors="pt", padding=True)
    y = tok([target for _, target in pairs], return_tensors="pt", padding=True)["input_ids"]
    y[y == tok.pad_token_id] = -100
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a model this small trains fastest on one thread
    try:
        for _ in range(steps):
            opt.zero_grad()
            model(**x, labels=y).loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    model.save_pretrained(dst)
    tok.save_pretrained(dst)
    return dst


def test_usable_rewrites_replace_raw_lines(cleanup, tmp_path):
    pairs = [(LINES[1], "a dog riding a skateboard"), (LINES[3], "a man playing guitar")]
    trained = Cleanup(resolve_value("cleanup", str(_overfit(cleanup.spec.location, tmp_path / "t5", pairs))))
    unseen = "cat, chair; a cat on a chair"
    out = trained.clean([LINES[1], "", LINES[3], unseen])
    assert out[:3] == ["a dog riding a skateboard", "", "a man playing guitar"]
    generated = trained._generate([unseen])[0]
    assert out[3] == (unseen if is_degenerate(unseen, generated) else generated.strip())


@pytest.mark.parametrize("rewrite, bad", [
    ("", True),
    ("  a ", True),
    ("banana banana", True),                                  # no word in common with the raw line
    ("dog dog dog dog dog dog dog dog dog", True),            # a repetition loop
    ("A dog rides a skateboard.", False),
    ("The dog is on a skateboard in the street.", False),
])
def test_degenerate_guard(rewrite, bad):
    assert is_degenerate("dog, skateboard; a dog riding a skateboard on the street", rewrite) is bad


def test_from_registry_uses_override(tmp_path):
    folder = build_tiny(tmp_path / "t5")
    cleaner = Cleanup.from_registry({"cleanup": str(folder)}, "cpu")
    assert cleaner.spec.location == str(folder.resolve())
    assert cleaner.clean(["cat, cat; a cat on a chair"])[0]
