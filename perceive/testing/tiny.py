"""Tiny models with random weights, built from configs: fixtures for offline tests and demos.

Each ``tiny_<role>(folder) -> Path`` saves a small, untrained model of its
kind in the format the stage's real loader reads, and marks it with the
random-weights marker (:func:`perceive.models.mark_random`), so that every
header and JSONL record says these weights are random.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from perceive.models import mark_random
from prompts import load as load_prompt


def tiny_asr(folder: str | Path) -> Path:
    """Save a tiny English openai-whisper checkpoint with random weights; returns the ``.pt`` path.

    It has the real tokenizer, mel front end and 30-second audio context, with
    one narrow layer per side and a 64-token text context (so at most 32 tokens
    per window): it loads and decodes like ``tiny.en`` in about a second, and
    says nothing meaningful.
    """
    import torch
    from whisper.model import ModelDimensions, Whisper

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dims = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2, n_audio_layer=1,
                           n_vocab=51864, n_text_ctx=64, n_text_state=64, n_text_head=2, n_text_layer=1)
    torch.manual_seed(0)
    model = Whisper(dims)
    path = folder / "tiny-whisper.pt"
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)
    mark_random(path)
    return path


def yolo11n(folder: str | Path, name: str, class_bias: float | None = None) -> Path:
    """Save an untrained YOLO11n (COCO class names) as ``folder/name``; ``class_bias`` raises its class scores."""
    import torch
    from ultralytics import YOLO
    from ultralytics.utils import ROOT, YAML

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    yolo = YOLO("yolo11n.yaml", task="detect", verbose=False)
    yolo.model.names = YAML.load(ROOT / "cfg" / "datasets" / "coco.yaml")["names"]
    if class_bias is not None:
        with torch.no_grad():
            for branch in yolo.model.model[-1].cv3:
                branch[-1].bias.fill_(class_bias)
    path = folder / name
    yolo.save(path)
    mark_random(path)
    return path


def tiny_detector(folder: str | Path) -> Path:
    """Save a YOLO11n with random weights (COCO class names) as ``folder/tiny-yolo.pt``.

    The class biases are raised so that even untrained, the model reports
    confident boxes and the tracker has objects to follow.
    """
    return yolo11n(folder, "tiny-yolo.pt", class_bias=2.0)


_TINY_WORDS = ("a man woman person dog cat car bike bicycle street road table room people "
               "on in of the with and is at near sitting standing walking riding red blue green "
               "white black small large two group front next to").split()


FLORENCE_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")


def florence2(folder: str | Path, words: list[str], side: int, vision: dict, text: dict) -> Path:
    """Save an untrained Florence-2 captioner to ``folder`` (marked random): ``words`` as its byte-level BPE
    vocabulary after the special tokens, ``side``-px images, ``vision``/``text`` the DaViT and BART settings.

    Its generation config never emits a special token (nor the end), so every caption is
    words and runs to ``max_new_tokens``, as an untrained BLIP's does.
    """
    import torch
    from transformers import (BartConfig, BartTokenizer, CLIPImageProcessor, Florence2Config,
                              Florence2ForConditionalGeneration, Florence2Processor, Florence2VisionConfig)

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokens = [*FLORENCE_SPECIALS, *dict.fromkeys(f"\u0120{w}" for w in words)]   # \u0120: the space before a word
    tokenizer = BartTokenizer(vocab={t: i for i, t in enumerate(tokens)}, merges=[],
                              extra_special_tokens={"image_token": "<image>"})
    images = CLIPImageProcessor(size={"height": side, "width": side}, do_center_crop=False,
                                image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])
    images.image_seq_length = (side // 32) ** 2 + 1   # the DaViT grid (stride 32), plus its one pooled token
    text = BartConfig(vocab_size=len(tokenizer), pad_token_id=1, bos_token_id=0, eos_token_id=2,
                      decoder_start_token_id=2, forced_bos_token_id=0, forced_eos_token_id=None, **text)
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the same model every time
        model = Florence2ForConditionalGeneration(Florence2Config(
            vision_config=Florence2VisionConfig(**vision), text_config=text, image_token_id=tokenizer.image_token_id))
    model.generation_config.suppress_tokens = tokenizer.convert_tokens_to_ids([*FLORENCE_SPECIALS, "<image>"])
    model.generation_config.forced_eos_token_id = None
    model.save_pretrained(folder)
    Florence2Processor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    mark_random(folder)
    return folder


def tiny_florence2(folder: str | Path) -> Path:
    """Save a tiny Florence-2 captioner (the default's kind) to ``folder``: random weights, 64 px images
    (5 image tokens), a 1+1-layer BART of width 32, a few-word vocabulary."""
    vision = dict(depths=[1, 1, 1, 1], embed_dim=[8, 16, 16, 32], num_heads=[1, 1, 1, 1], num_groups=[1, 1, 1, 1],
                  window_size=2, projection_dim=32, max_position_embeddings=8, max_temporal_embeddings=4)
    text = dict(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
                encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=128)
    return florence2(folder, _TINY_WORDS, 64, vision, text)


def tiny_blip(folder: str | Path) -> Path:
    """Save a tiny BLIP captioner (random weights, 32 px images, a few-word vocabulary) to ``folder``."""
    import torch
    from transformers import (BertTokenizer, BlipConfig, BlipForConditionalGeneration, BlipImageProcessor,
                              BlipProcessor)

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]", *_TINY_WORDS]
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizer(str(vocab_file), do_lower_case=True, bos_token="[DEC]")
    processor = BlipProcessor(image_processor=BlipImageProcessor(size={"height": 32, "width": 32}),
                              tokenizer=tokenizer)
    small = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=1, num_attention_heads=2)
    config = BlipConfig(
        text_config=dict(small, vocab_size=len(vocab), max_position_embeddings=64, pad_token_id=0,
                         bos_token_id=vocab.index("[DEC]"), sep_token_id=vocab.index("[SEP]"),
                         eos_token_id=vocab.index("[SEP]")),
        vision_config=dict(small, image_size=32, patch_size=8),
        projection_dim=32,
    )
    torch.manual_seed(0)
    BlipForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    mark_random(folder)
    return folder


TINY_LABELS = ["arm wrestling", "brushing hair", "skateboarding", "playing guitar", "riding a bike", "walking the dog"]


def tiny_action(folder: str | Path) -> Path:
    """Save a tiny random-weight VideoMAE Kinetics classifier and its processor under ``folder``."""
    import torch
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification, VideoMAEImageProcessor

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = VideoMAEConfig(
        image_size=32, patch_size=16, num_frames=4, tubelet_size=2, hidden_size=32, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=64, use_mean_pooling=True,
        id2label=dict(enumerate(TINY_LABELS)), label2id={n: i for i, n in enumerate(TINY_LABELS)},
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the same tiny model every time
        VideoMAEForVideoClassification(config).save_pretrained(folder)
    VideoMAEImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    mark_random(folder)
    return folder


TINY_TAGS = ["lakeside", "boathouse", "water bottle", "suit"]


def tiny_tagger(folder: str | Path) -> Path:
    """Save a narrow EfficientNet-Lite0 (random weights, 32 px input, four classes) as ``folder/tiny-tagger.pth``.

    Its first class's bias is raised, so that even untrained it tags every shot
    "lakeside" with a probability near 1 and the other classes far below any threshold.
    """
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"width_coefficient": 0.25, "depth_coefficient": 0.25, "image_size": 32}
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the same tiny model every time
        net = EfficientNet.from_name("efficientnet-lite0", num_classes=len(TINY_TAGS), **config)
    with torch.no_grad():
        net._fc.weight.mul_(0.01)
        net._fc.bias.copy_(torch.tensor([8.0] + [0.0] * (len(TINY_TAGS) - 1)))
    path = folder / "tiny-tagger.pth"
    torch.save({"config": config, "labels": TINY_TAGS, "state_dict": net.state_dict()}, path)
    mark_random(path)
    return path


def _tiny_corpus() -> list[str]:
    """Words the tiny tokenizer knows: the prompt plus common tag and caption words."""
    words = ("person people man woman boy girl dog cat car bicycle bike skateboard table chair cup bottle "
             "laptop cake phone tv sitting standing walking riding holding talking playing arm wrestling "
             "brushing hair skateboarding guitar two a an the of in on at with and is are room street "
             "kitchen outside inside left right top bottom center says music applause")
    return [load_prompt("cleanup").strip(), words]


def tiny_cleanup(folder: str | Path) -> Path:
    """Save a tiny random-weight T5 and a word-level tokenizer (built offline) under ``folder``."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    specials = ["<pad>", "</s>", "<unk>"]
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(_tiny_corpus(), trainers.WordLevelTrainer(special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", tok.token_to_id("</s>"))])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>",
                                        unk_token="<unk>", model_max_length=512)
    tokenizer.save_pretrained(folder)
    config = T5Config(vocab_size=tok.get_vocab_size(), d_model=32, d_kv=8, d_ff=64, num_layers=1,
                      num_decoder_layers=1, num_heads=2, relative_attention_num_buckets=8,
                      pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the same tiny model every time
        T5ForConditionalGeneration(config).save_pretrained(folder)
    mark_random(folder)
    return folder


BUILDERS = {"asr": tiny_asr, "detector": tiny_detector, "tagger": tiny_tagger, "captioner": tiny_florence2,
            "action": tiny_action, "cleanup": tiny_cleanup}
