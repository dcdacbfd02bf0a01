"""Reference rewards from the official SpatialThinker code, for tests/stages/official_reward_test.ts.

Runs `spatial_sgg_compute_score` (and, where format and accuracy are 1, the unused strict
`spatial_reward`) of hunarbatra/SpatialThinker @ 4ac41cf
(verl/utils/reward_score/spatial_sgg.py) on seeded random and mutated responses. spaCy is
replaced by an exact-label similarity (1 when the cleaned labels are equal, else 0), which the
TypeScript test uses too, so the comparison checks everything but the word vectors.

Usage: python3 generate_official_rewards.py path/to/spatial_sgg.py > official_rewards.json
       deno fmt official_rewards.json
Needs numpy and scipy.
"""

import importlib.util
import json
import math
import random
import sys
import types


class ExactDoc:
    def __init__(self, text):
        self.text = text

    def similarity(self, other):
        return 1.0 if self.text == other.text else 0.0


spacy = types.ModuleType("spacy")
spacy.load = lambda *args, **kwargs: ExactDoc
sys.modules["spacy"] = spacy

spec = importlib.util.spec_from_file_location("spatial_sgg", sys.argv[1])
official = importlib.util.module_from_spec(spec)
spec.loader.exec_module(official)

LABELS = ["man", "bike", "red_cube", "ball", "traffic_light", "fire-hydrant", "cup", "dog"]
PREDICATES = ["behind", "left of", "on top of", "next to"]
ANSWERS = ["(A) behind", "(B) in front of", "(a) BEHIND", " (A) behind ", "(C) left"]
SIZES = [(640, 480), (1024, 768), (333, 500)]
ALPHABET = '{}[]":,.<>/ 0123456789-+xyz\n'

rng = random.Random(1)


def random_scene(width, height, allow_inverted):
    objects = []
    for k in range(rng.randrange(0, 6)):
        x1, x2 = sorted(rng.uniform(0, width) for _ in range(2))
        y1, y2 = sorted(rng.uniform(0, height) for _ in range(2))
        if allow_inverted and rng.random() < 0.1:
            x1, x2 = x2, x1
        box = [round(v, rng.choice([0, 1, 2])) for v in (x1, y1, x2, y2)]
        objects.append({"id": f"{rng.choice(LABELS)}.{k + 1}", "bbox": box})
    relationships = []
    if len(objects) >= 2:
        for _ in range(rng.randrange(0, 4)):
            relationships.append({
                "subject": rng.choice(objects)["id"],
                "predicate": rng.choice(PREDICATES),
                "object": rng.choice(objects)["id"],
            })
    scene = {}
    if rng.random() < 0.95:
        scene["objects"] = objects
    if rng.random() < 0.8:
        scene["relationships"] = relationships
    return scene


def response_text(scene, answer):
    return (
        "<observe>A man stands behind a bike.</observe>\n<scene>\n" + json.dumps(scene) +
        "\n</scene>\n<think>He is farther away.</think>\n<answer>" + answer + "</answer>"
    )


def mutate(text):
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(len(text))
        insert = rng.choice(ALPHABET) if rng.random() < 0.7 else ""
        text = text[:at] + insert + text[at + rng.randrange(0, 3):]
    return text


def all_finite(value):
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(all_finite(v) for v in value)
    if isinstance(value, dict):
        return all(all_finite(v) for v in value.values())
    return True


cases = []
while len(cases) < 300:
    width, height = rng.choice(SIZES)
    gt_scene = random_scene(width, height, allow_inverted=False)
    gt_scene.setdefault("objects", [])
    gt_answer = rng.choice(ANSWERS[:2])
    ground_truth = f"<scene>{json.dumps(gt_scene)}</scene>\n<answer>{gt_answer}</answer>"
    pred_scene = random_scene(width, height, allow_inverted=True)
    if rng.random() < 0.3 and "objects" in gt_scene:
        pred_scene = {**gt_scene, "objects": [
            {"id": o["id"], "bbox": [v + rng.uniform(-20, 20) for v in o["bbox"]]}
            for o in gt_scene["objects"]
        ]}
    answer = gt_answer if rng.random() < 0.6 else rng.choice(ANSWERS)
    response = response_text(pred_scene, answer)
    if rng.random() < 0.35:
        response = mutate(response)
    if not all_finite(official.extract_scene(response)):
        continue  # Python accepts NaN and Infinity; we reject them (documented deviation).
    problem = f"<image> ... Image size: ({width} x {height})\nNow answer the following question:\nQ. ?"
    try:
        score = official.spatial_sgg_compute_score(response, ground_truth, problem)
    except Exception:  # scipy rejects NaN costs; we score those cases instead of crashing
        continue
    if not all(math.isfinite(v) for v in score.values()):
        continue
    case = {"response": response, "groundTruth": ground_truth, "problem": problem, "expected": score}
    if score["format"] == 1.0 and score["accuracy"] == 1.0:
        # The unused strict variant: (object score, relation score).
        case["strict"] = official.spatial_reward(
            official.extract_scene(response), official.extract_scene(ground_truth), width, height
        )
    cases.append(case)

json.dump(cases, sys.stdout, separators=(",", ":"))
sys.stdout.write("\n")
