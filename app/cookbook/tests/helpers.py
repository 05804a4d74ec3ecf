from html.parser import HTMLParser

from django.contrib.auth import get_user_model

from cookbook.models import Recipe, Tag

VOID_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
}


class WellFormedHTMLChecker(HTMLParser):
    """Checks that every non-void element is closed, in order, and ids are unique."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.errors = []
        self.ids = set()
        self.saw_doctype = False

    def handle_decl(self, decl):
        if decl.lower() == "doctype html":
            self.saw_doctype = True

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id":
                if value in self.ids:
                    self.errors.append(f"duplicate id {value!r} at {self.getpos()}")
                self.ids.add(value)
        if tag not in VOID_ELEMENTS:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID_ELEMENTS:
            self.errors.append(f"end tag for void element <{tag}> at {self.getpos()}")
        elif not self.stack or self.stack[-1][0] != tag:
            expected = self.stack[-1] if self.stack else None
            self.errors.append(f"unexpected </{tag}> at {self.getpos()}, open element: {expected}")
        else:
            self.stack.pop()


def html_problems(content):
    checker = WellFormedHTMLChecker()
    checker.feed(content)
    checker.close()
    problems = list(checker.errors)
    if not checker.saw_doctype:
        problems.append("missing <!DOCTYPE html>")
    problems += [f"<{tag}> opened at {pos} is never closed" for tag, pos in checker.stack]
    return problems


class HTMLAssertionsMixin:
    def assertWellFormedHTML(self, response):
        self.assertTrue(response["Content-Type"].startswith("text/html"), response["Content-Type"])
        problems = html_problems(response.content.decode(response.charset or "utf-8"))
        self.assertEqual(problems, [], "\n".join(problems))


def make_user(username="cook", password="a-Str0ng-pass-phrase", **extra):
    return get_user_model().objects.create_user(username=username, password=password, **extra)


def make_recipe(author, title="Tomato Soup", tags=(), **fields):
    data = {
        "summary": "A simple soup.",
        "ingredients": "4 tomatoes\n1 onion\nSalt",
        "steps": "Chop everything.\nSimmer for 20 minutes.\nBlend.",
        "prep_minutes": 10,
        "cook_minutes": 20,
        "servings": 4,
    }
    data.update(fields)
    recipe = Recipe.objects.create(author=author, title=title, **data)
    if tags:
        recipe.tags.set([Tag.objects.get_or_create(name=name)[0] for name in tags])
    return recipe
