from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from cookbook.models import Recipe, Tag

from .helpers import make_recipe, make_user

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class TagModelTests(TestCase):
    def test_slug_is_generated_from_name(self):
        tag = Tag.objects.create(name="Make Ahead")
        self.assertEqual(tag.slug, "make-ahead")
        self.assertEqual(str(tag), "Make Ahead")
        self.assertEqual(tag.get_absolute_url(), "/?tag=make-ahead")

    def test_tags_are_ordered_by_name(self):
        for name in ["Soup", "Baking", "Quick"]:
            Tag.objects.create(name=name)
        self.assertEqual([t.name for t in Tag.objects.all()], ["Baking", "Quick", "Soup"])


class RecipeModelTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.user = make_user()

    def test_slug_is_generated_and_unique(self):
        first = make_recipe(self.user, title="Pea Soup!")
        second = make_recipe(self.user, title="Pea soup")
        third = make_recipe(self.user, title="Pea  Soup")
        self.assertEqual([first.slug, second.slug, third.slug], ["pea-soup", "pea-soup-2", "pea-soup-3"])

    def test_slug_is_kept_when_title_changes(self):
        recipe = make_recipe(self.user, title="Pea Soup")
        recipe.title = "Green Pea Soup"
        recipe.save()
        recipe.refresh_from_db()
        self.assertEqual(recipe.slug, "pea-soup")

    def test_long_titles_give_slugs_that_fit(self):
        title = "Very " * 39 + "Long"  # 199 characters
        first = make_recipe(self.user, title=title)
        second = make_recipe(self.user, title=title)
        self.assertLessEqual(len(first.slug), 200)
        self.assertLessEqual(len(second.slug), 200)
        self.assertTrue(second.slug.endswith("-2"))

    def test_string_url_and_times(self):
        recipe = make_recipe(self.user, title="Pea Soup", prep_minutes=15, cook_minutes=25)
        self.assertEqual(str(recipe), "Pea Soup")
        self.assertEqual(recipe.get_absolute_url(), "/recipes/pea-soup/")
        self.assertEqual(recipe.total_minutes, 40)

    def test_ingredient_and_step_lists_skip_blank_lines(self):
        recipe = make_recipe(self.user, ingredients="  2 eggs \n\n  milk\n", steps="Whisk.\r\n\r\nCook.")
        self.assertEqual(recipe.ingredient_list, ["2 eggs", "milk"])
        self.assertEqual(recipe.step_list, ["Whisk.", "Cook."])

    def test_newest_first(self):
        older = make_recipe(self.user, title="Older")
        newer = make_recipe(self.user, title="Newer")
        self.assertEqual(list(Recipe.objects.all()), [newer, older])

    def test_search_matches_every_word_in_title_summary_or_ingredients(self):
        soup = make_recipe(self.user, title="Tomato Soup", ingredients="tomatoes\nbasil")
        make_recipe(self.user, title="Basil Pesto", ingredients="basil\npine nuts")
        self.assertEqual(list(Recipe.objects.search("tomato BASIL")), [soup])
        self.assertEqual(Recipe.objects.search("basil").count(), 2)
        self.assertEqual(Recipe.objects.search("   ").count(), 2)

    def test_field_validation(self):
        recipe = Recipe(author=self.user, title="X", summary="s", ingredients="i", steps="s",
                        prep_minutes=5, cook_minutes=0, servings=0)
        with self.assertRaises(ValidationError) as caught:
            recipe.full_clean()
        self.assertIn("servings", caught.exception.message_dict)

    def test_image_must_be_a_real_image(self):
        recipe = make_recipe(self.user)
        recipe.image = SimpleUploadedFile("photo.png", b"<script>alert(1)</script>", content_type="image/png")
        with self.assertRaises(ValidationError) as caught:
            recipe.full_clean()
        self.assertIn("image", caught.exception.message_dict)

        recipe.image = SimpleUploadedFile("photo.exe", PNG_BYTES, content_type="image/png")
        with self.assertRaises(ValidationError):
            recipe.full_clean()

        recipe.image = SimpleUploadedFile("photo.png", PNG_BYTES, content_type="text/html")
        with self.assertRaises(ValidationError):
            recipe.full_clean()

        recipe.image = SimpleUploadedFile("photo.png", PNG_BYTES, content_type="image/png")
        recipe.full_clean()  # no error

    def test_image_size_limit(self):
        recipe = make_recipe(self.user)
        recipe.image = SimpleUploadedFile("big.png", PNG_BYTES + b"\x00" * 100, content_type="image/png")
        with self.settings(RECIPE_IMAGE_MAX_BYTES=64):
            with self.assertRaises(ValidationError) as caught:
                recipe.full_clean()
        self.assertIn("too large", str(caught.exception))
