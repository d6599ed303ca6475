"""Build the text-to-emoji data set from the npm emoji packages (issue 12).

    npm pack emoji-datasource-twitter emoji-datasource-google emojibase-data   # in tools/emoji/.data/
    /usr/bin/python3 tools/emoji/data.py [--data tools/emoji/.data] [--out tools/emoji/out]

The packages are fetched outside the project's lockfile into the ignored folder tools/emoji/.data/
(CI never downloads them); `tools/emoji/fetch-data.sh` does it. Licences (checked in the packages'
README/LICENSE): Twemoji images CC-BY 4.0 (attribution: Twitter, Inc. and other contributors; the
jdecked/twemoji fork), Noto Emoji images Apache 2.0 (Google), emoji-datasource data MIT (Cal
Henderson), emojibase-data MIT (Miles Johnson). Apple and Facebook images are never read.

Writes <out>/dataset.pt: uint8 images [N, 3, 64, 64] composited on white, per image its concept
index and style (0 twemoji, 1 noto); per concept its name, short names, tags, category and
subcategory (indices); the fixed held-out split (concept, style pairs whose concept is seen in
training only in the other style); and <out>/tokenizer.json (a WordPiece over whole words, the
standard Hugging Face format that @huggingface/tokenizers reads).
"""
import argparse
import json
import os
import random
import re

import numpy as np
import torch
from PIL import Image

STYLES = ("twemoji", "noto")
STYLE_WORDS = (("twemoji", "twitter"), ("noto", "google"))
SETS = (("emoji-datasource-twitter", "twitter", "has_img_twitter"),
        ("emoji-datasource-google", "google", "has_img_google"))
HELD_OUT_FRACTION = 0.08
SPLIT_SEED = 12
SIZE = 64
TEMPLATES = ("{n}", "{n}", "a {n}", "{n} emoji", "an emoji of a {n}", "{n}, {s} style", "{s} {n}",
             "a {n}, {s} style", "{n} ({sub})", "{sub}: {n}", "{t}", "{n}, {t}", "{sn}", "{sn}, {s} style")
PAD, UNK = "[PAD]", "[UNK]"


def words(text):
    return re.findall(r"[a-z0-9]+|[^\sa-z0-9]", text.lower())


def key(unified):
    return "-".join(p for p in unified.upper().split("-") if p != "FE0F")


def load_concepts(data_dir):
    meta = json.load(open(os.path.join(data_dir, "emoji-datasource-twitter", "emoji.json")))
    base = {key(e["hexcode"]): e for e in json.load(open(os.path.join(data_dir, "emojibase-data", "en", "data.json")))}
    concepts = []
    for e in sorted(meta, key=lambda e: e["sort_order"]):
        if e["category"] == "Component" or not all(e[flag] for _, _, flag in SETS):
            continue
        b = base.get(key(e["unified"]), {})
        name = (b.get("label") or e.get("name") or e["short_name"]).lower()
        name = name.replace("flag: ", "flag of ")
        concepts.append({"name": name, "unified": e["unified"], "image": e["image"],
                         "short_names": [s.replace("_", " ").replace("-", " ") for s in e["short_names"]],
                         "tags": [t for t in b.get("tags", []) if t not in name.split()][:6],
                         "category": e["category"], "subcategory": e["subcategory"]})
    return concepts


def composite(path):
    im = Image.open(path).convert("RGBA")
    if im.size != (SIZE, SIZE):
        im = im.resize((SIZE, SIZE), Image.LANCZOS)
    bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(bg, im).convert("RGB")).transpose(2, 0, 1).copy()


def held_out_split(n_concepts):
    """Fixed: a fraction of concepts, each with one style held out (alternating), the other seen."""
    rng = random.Random(SPLIT_SEED)
    chosen = sorted(rng.sample(range(n_concepts), int(round(HELD_OUT_FRACTION * n_concepts))))
    return [(c, i % 2) for i, c in enumerate(chosen)]


def caption(concept, style, rng, style_prob=0.5):
    """One random caption; the style word appears with probability style_prob."""
    s = rng.choice(STYLE_WORDS[style])
    sub = concept["subcategory"].replace("-", " ")
    tags = concept["tags"][:]
    rng.shuffle(tags)
    t = " ".join(tags[:3]) or concept["name"]
    sn = rng.choice(concept["short_names"])
    tpl = rng.choice(TEMPLATES)
    if "{s}" in tpl and rng.random() > style_prob:
        tpl = "{n}"
    text = tpl.format(n=concept["name"], s=s, sub=sub, t=t, sn=sn)
    if "{s}" not in tpl and rng.random() < style_prob * 0.5:
        text = f"{text}, {s} style"
    return text


def eval_prompt(concept, style):
    return f"{concept['name']}, {STYLES[style]} style"


def build_tokenizer(concepts, path):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    vocab = {PAD: 0, UNK: 1}
    extra = "a an of emoji style twemoji twitter noto google ( ) : , - the with and".split()
    for w in extra:
        vocab.setdefault(w, len(vocab))
    counts = {}
    for c in concepts:
        for text in [c["name"], c["subcategory"].replace("-", " ")] + c["short_names"] + c["tags"]:
            for w in words(text):
                counts[w] = counts.get(w, 0) + 1
    for w in sorted(counts, key=lambda w: (-counts[w], w)):
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordPiece(vocab, unk_token=UNK, max_input_chars_per_word=100))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(path)
    return tok


def token_ids(tok, text, length):
    """Truncate / pad exactly as the runtime does (src/pipeline/prompt.ts)."""
    ids = tok.encode(text).ids[:length]
    return ids + [0] * (length - len(ids))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--data", default=os.path.join(here, ".data"))
    ap.add_argument("--out", default=os.path.join(here, "out"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    concepts = load_concepts(args.data)
    cats = sorted({c["category"] for c in concepts})
    subs = sorted({c["subcategory"] for c in concepts})
    images, concept_idx, style_idx = [], [], []
    for ci, c in enumerate(concepts):
        for si, (pkg, folder, _) in enumerate(SETS):
            images.append(composite(os.path.join(args.data, pkg, "img", folder, "64", c["image"])))
            concept_idx.append(ci)
            style_idx.append(si)
    held = held_out_split(len(concepts))
    held_set = set(held)
    train_mask = [(c, s) not in held_set for c, s in zip(concept_idx, style_idx)]
    tok = build_tokenizer(concepts, os.path.join(args.out, "tokenizer.json"))
    ds = {"images": torch.from_numpy(np.stack(images)), "concept": torch.tensor(concept_idx),
          "style": torch.tensor(style_idx), "train": torch.tensor(train_mask),
          "category": torch.tensor([cats.index(concepts[c]["category"]) for c in concept_idx]),
          "subcategory": torch.tensor([subs.index(concepts[c]["subcategory"]) for c in concept_idx]),
          "concepts": concepts, "categories": cats, "subcategories": subs, "held_out": held, "styles": STYLES}
    torch.save(ds, os.path.join(args.out, "dataset.pt"))
    lengths = [len(tok.encode(caption(c, s, random.Random(i))).ids) for i, (c, s) in
               enumerate((concepts[ci], si) for ci, si in zip(concept_idx, style_idx))]
    print(json.dumps({"concepts": len(concepts), "images": len(images), "train_images": sum(train_mask),
                      "held_out_pairs": len(held), "categories": len(cats), "subcategories": len(subs),
                      "vocab": tok.get_vocab_size(), "caption_tokens_p95": int(np.percentile(lengths, 95)),
                      "caption_tokens_max": max(lengths)}))


if __name__ == "__main__":
    main()
