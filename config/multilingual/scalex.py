# ScaleX with three languages: English alone at a constant LR, then all three under cosine,
# the stage-2 mixture at equal shares (English replayed as much as each LRL).
data_dir = "data/multilingual"
hrl, lrl = "en", "zh"   # the report's axes; ja is evaluated too
budget = {"en": 1_200_000, "zh": 150_000, "ja": 150_000}
model = "tiny"
stages = [
    {"name": "hrl", "lr": "constant", "tokens": {"en": budget["en"] - budget["zh"]}},
    {"name": "mix", "lr": "cosine", "total": 3 * budget["zh"], "mix": {"en": 1 / 3, "zh": 1 / 3, "ja": 1 / 3}},
]
