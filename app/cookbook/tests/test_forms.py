import shutil
import tempfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings

from cookbook.forms import RecipeForm
from cookbook.models import Recipe, Tag

from .helpers import make_user

GIF_BYTES = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


def valid_data(**overrides):
    data = {
        "title": "Weeknight Dal",
        "summary": "Comforting lentils.",
        "prep_minutes": "10",
        "cook_minutes": "30",
        "servings": "4",
        "ingredients": "200 g lentils\n\n 1 onion \n",
        "steps": "Rinse the lentils.\nSimmer until soft.",
        "new_tags": "",
    }
    data.update(overrides)
    return data


class RecipeFormTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.user = make_user()
        cls.vegan = Tag.objects.create(name="Vegan")

    def save(self, form):
        form.instance.author = self.user
        return form.save()

    def test_valid_form_saves_and_tidies_lines(self):
        form = RecipeForm(data=valid_data(tags=[self.vegan.pk]))
        self.assertTrue(form.is_valid(), form.errors)
        recipe = self.save(form)
        self.assertEqual(recipe.slug, "weeknight-dal")
        self.assertEqual(recipe.ingredients, "200 g lentils\n1 onion")
        self.assertEqual(list(recipe.tags.all()), [self.vegan])

    def test_required_fields(self):
        form = RecipeForm(data={})
        self.assertFalse(form.is_valid())
        for name in ["title", "summary", "prep_minutes", "ingredients", "steps"]:
            self.assertIn(name, form.errors)
        self.assertNotIn("tags", form.errors)
        self.assertNotIn("image", form.errors)

    def test_blank_lines_only_are_rejected(self):
        form = RecipeForm(data=valid_data(ingredients=" \n \n", steps="\n"))
        self.assertFalse(form.is_valid())
        self.assertEqual(form.errors["ingredients"], ["This field is required."])
        self.assertEqual(form.errors["steps"], ["This field is required."])

    def test_title_needs_letters_or_digits(self):
        form = RecipeForm(data=valid_data(title="!!!"))
        self.assertFalse(form.is_valid())
        self.assertIn("title", form.errors)

    def test_number_ranges(self):
        form = RecipeForm(data=valid_data(prep_minutes="-1", servings="0", cook_minutes="abc"))
        self.assertFalse(form.is_valid())
        self.assertEqual(set(form.errors), {"prep_minutes", "servings", "cook_minutes"})

    def test_new_tags_are_created_once_and_matched_case_insensitively(self):
        form = RecipeForm(data=valid_data(new_tags="vegan, Quick,  quick , One  Pot,"))
        self.assertTrue(form.is_valid(), form.errors)
        recipe = self.save(form)
        self.assertEqual(sorted(t.name for t in recipe.tags.all()), ["One Pot", "Quick", "Vegan"])
        self.assertEqual(Tag.objects.count(), 3)
        self.assertEqual(Tag.objects.get(name="One Pot").slug, "one-pot")

    def test_bad_new_tag(self):
        form = RecipeForm(data=valid_data(new_tags="ok, ???"))
        self.assertFalse(form.is_valid())
        self.assertIn("new_tags", form.errors)


@override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="recipes-test-media-"))
class RecipeFormImageTests(TestCase):
    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        from django.conf import settings

        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)

    def test_image_upload(self):
        user = make_user()
        image = SimpleUploadedFile("dot.gif", GIF_BYTES, content_type="image/gif")
        form = RecipeForm(data=valid_data(), files={"image": image})
        self.assertTrue(form.is_valid(), form.errors)
        form.instance.author = user
        recipe = form.save()
        self.assertTrue(recipe.image.name.startswith("recipes/"))
        self.assertTrue(recipe.image.name.endswith(".gif"))
        with recipe.image.open("rb") as stored:
            self.assertEqual(stored.read(), GIF_BYTES)

        # Editing without a new upload keeps (and doesn't re-validate) the image.
        form = RecipeForm(data=valid_data(title="Renamed"), instance=recipe)
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.save().image.name, recipe.image.name)

    def test_fake_image_is_rejected(self):
        fake = SimpleUploadedFile("evil.gif", b"<html>not an image</html>", content_type="image/gif")
        form = RecipeForm(data=valid_data(), files={"image": fake})
        self.assertFalse(form.is_valid())
        self.assertIn("image", form.errors)
        self.assertFalse(Recipe.objects.exists())

    def test_wrong_extension_is_rejected(self):
        svg = SimpleUploadedFile("pic.svg", b"<svg></svg>", content_type="image/svg+xml")
        form = RecipeForm(data=valid_data(), files={"image": svg})
        self.assertFalse(form.is_valid())
        self.assertIn("image", form.errors)
