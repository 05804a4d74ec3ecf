from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import TestCase

from cookbook.models import Recipe, Tag


class SeedRecipesTests(TestCase):
    def seed(self, *args):
        out = StringIO()
        call_command("seed_recipes", *args, stdout=out)
        return out.getvalue()

    def test_seed_is_idempotent(self):
        output = self.seed("--count", "30")
        self.assertIn("Seeded 30 new recipe(s)", output)
        self.assertEqual(Recipe.objects.count(), 30)
        tags = Tag.objects.count()
        self.assertEqual(self.seed("--count", "30").count("Seeded 0 new"), 1)
        self.assertEqual(Recipe.objects.count(), 30)
        self.assertEqual(Tag.objects.count(), tags)
        self.assertEqual(get_user_model().objects.count(), 1)

        self.seed("--count", "40")
        self.assertEqual(Recipe.objects.count(), 40)

    def test_seeded_data_is_realistic_and_valid(self):
        self.seed("--count", "100")
        user = get_user_model().objects.get(username="demo")
        self.assertTrue(user.check_password("recipes-demo"))
        self.assertEqual(Recipe.objects.values("slug").distinct().count(), 100)
        for recipe in Recipe.objects.all():
            recipe.full_clean()
            self.assertGreaterEqual(len(recipe.ingredient_list), 3)
            self.assertTrue(recipe.tags.exists())

    def test_existing_user_password_is_not_reset(self):
        get_user_model().objects.create_user("demo", password="my-own-password")
        self.seed("--count", "1", "--password", "other")
        self.assertTrue(get_user_model().objects.get().check_password("my-own-password"))

    def test_negative_count(self):
        with self.assertRaises(CommandError):
            self.seed("--count", "-1")
