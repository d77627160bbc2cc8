"""The runtime matrix (catalog runtimes.yaml, issue 13): its facts, its consistency with the releases, and the
checks that refuse a broken copy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tokenfactory.catalog import load_catalog
from tokenfactory.catalog.loader import CATALOG_DIR
from tokenfactory.errors import ConfigError


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    for name in ("profiles.yaml", "releases.yaml", "runtimes.yaml"):
        (tmp_path / name).write_text((CATALOG_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    runtimes = tmp_path / "runtimes.yaml"
    text = runtimes.read_text(encoding="utf-8")
    assert old in text
    runtimes.write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


def test_vllm_ascend_v0_13_0_is_the_facts_sheet_set_for_release_2025_12() -> None:
    """ascend-facts §6/§9: v0.13.0 = CANN 8.5.0 / torch 2.8.0; CANN 8.5.0 pairs torch 2.8.0 with 2.8.0.post2."""
    catalog = load_catalog()
    release = catalog.runtimes.engines["vllm-ascend"].releases["v0.13.0"]
    assert (release.vllm, release.cann, release.torch, release.torch_npu) == ("0.13.0", "8.5.0", "2.8.0",
                                                                              "2.8.0.post2")
    assert catalog.releases["2025.12"].cann == release.cann
    assert "cann" not in release.unconfirmed and "torch" not in release.unconfirmed


def test_every_catalog_release_has_a_vllm_ascend_release_for_its_cann() -> None:
    catalog = load_catalog()
    engine = catalog.runtimes.engines["vllm-ascend"]
    for name, ref in catalog.releases.items():
        assert any(r.cann == ref.cann for r in engine.releases.values()), name


def test_no_vllm_ascend_without_its_cann_in_the_catalog() -> None:
    """v0.23.0 needs CANN 9.1.0 (§9): it is listed only once a release carries that CANN."""
    catalog = load_catalog()
    for engine in catalog.runtimes.engines.values():
        for name, release in engine.releases.items():
            assert release.cann in catalog.cann, name


def test_every_stack_on_a_catalog_cann_uses_one_of_its_torch_pairs() -> None:
    runtimes = load_catalog().runtimes
    stacks = [*(r for e in runtimes.engines.values() for r in e.releases.values()),
              *(r for t in runtimes.training.values() for r in t.values())]
    for stack in stacks:
        pair = runtimes.torch_npu_for(stack.cann, stack.torch)
        assert pair is None or pair.torch_npu == stack.torch_npu, stack


def test_images_are_named_for_known_profiles_and_values_not_in_the_facts_sheet_are_marked() -> None:
    catalog = load_catalog()
    mindie = catalog.runtimes.engines["mindie"]
    assert (mindie.max_nodes, mindie.max_npus, mindie.tensor_parallel_across_servers) == (4, 32, True)
    assert set(mindie.releases["2.3.0"].unconfirmed) >= {"cann", "torch", "torch_npu", "images"}
    assert catalog.runtimes.training["mindspeed-llm"]["26.0.0"].cann == "9.0.0"  # §9, confirmed
    assert "cann" not in catalog.runtimes.training["mindspeed-llm"]["26.0.0"].unconfirmed
    raw = yaml.safe_load((CATALOG_DIR / "runtimes.yaml").read_text(encoding="utf-8"))
    for engine in raw["engines"].values():
        for release in engine["releases"].values():
            assert set(release["images"]) <= set(catalog.profiles)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("torch_npu: 2.8.0.post2                # the CANN 8.5.0 pair", "torch_npu: 2.8.0.post9  #",
     "torch 2.8.0 / torch_npu 2.8.0.post9 is not a pair of CANN 8.5.0"),
    ("unconfirmed: [python, images]", "unconfirmed: [python, imagez]", "unconfirmed names no field: imagez"),
    ("atlas-800t-a2: quay.io/ascend/vllm-ascend:v0.13.0", "atlas-800t-a9: quay.io/ascend/vllm-ascend:v0.13.0",
     "unknown profile(s) atlas-800t-a9"),
    ("python: \">=3.10,<3.13\"", "python: \"3.10 to 3.12\"", "not a version specifier"),
    ('  "8.2.RC1":\n    - {torch: 2.5.1', '  "8.3.RC1":\n    - {torch: 2.5.1',
     "runtimes.torch_npu: unknown cann 8.3.RC1"),
])
def test_a_broken_matrix_is_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_catalog(_broken_copy(tmp_path, old, new))
