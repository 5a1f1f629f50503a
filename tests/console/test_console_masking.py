"""Phone and 身份证 numbers are masked by one function, used as a Jinja filter and on every rendered value."""
from __future__ import annotations

import jinja2
import pytest

from console.templating import mask, unmasked
from knowledge.masking import mask_personal_data


@pytest.mark.parametrize(("raw", "shown"), [
    ("我电话13812345678", "我电话138****5678"),
    ("+86 138-1234-5678 找我", "+86 138****5678 找我"),
    ("身份证110101199003071234", "身份证1101**********1234"),
    ("ID 11010119900307123x", "ID 1101**********123x"),
    ("老身份证 110101900307123", "老身份证 1101*******7123"),
    ("玉米 1.15 元/斤，12333 热线", "玉米 1.15 元/斤，12333 热线"),
    ("座机 0311-87654321", "座机 0311-87654321"),
    ("", ""),
])
def test_mask_personal_data(raw, shown) -> None:
    assert mask_personal_data(raw) == shown


def test_every_rendered_value_is_masked_and_escaped_unless_marked() -> None:
    environment = jinja2.Environment(autoescape=True, finalize=mask)
    environment.filters.update({"mask": mask, "unmasked": unmasked})
    template = environment.from_string("{{ a }}|{{ b|unmasked }}|{{ c|mask }}")
    rendered = template.render(a="<b>13812345678</b>", b="13812345678", c="110101199003071234")
    assert rendered == "&lt;b&gt;138****5678&lt;/b&gt;|13812345678|1101**********1234"
