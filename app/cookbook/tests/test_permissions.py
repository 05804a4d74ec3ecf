from django.test import TestCase
from django.urls import reverse

from cookbook.models import Recipe, Tag

from .helpers import HTMLAssertionsMixin, make_recipe, make_user


def form_data(**overrides):
    data = {
        "title": "Pancakes",
        "summary": "Fluffy.",
        "prep_minutes": "5",
        "cook_minutes": "15",
        "servings": "2",
        "ingredients": "flour\nmilk\neggs",
        "steps": "Mix.\nFry.",
        "new_tags": "breakfast",
    }
    data.update(overrides)
    return data


class AnonymousAccessTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.recipe = make_recipe(make_user("alice"))

    def test_changing_pages_redirect_to_login(self):
        for url in [
            reverse("cookbook:recipe_create"),
            reverse("cookbook:recipe_update", args=[self.recipe.slug]),
            reverse("cookbook:recipe_delete", args=[self.recipe.slug]),
        ]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertRedirects(response, f"{reverse('login')}?next={url}", fetch_redirect_response=False)
                response = self.client.post(url, form_data())
                self.assertEqual(response.status_code, 302)
        self.assertEqual(Recipe.objects.count(), 1)
        self.assertEqual(Recipe.objects.get().title, "Tomato Soup")


class CreateRecipeTests(HTMLAssertionsMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice")

    def setUp(self):
        self.client.force_login(self.alice)

    def test_form_page(self):
        response = self.client.get(reverse("cookbook:recipe_create"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'enctype="multipart/form-data"')
        self.assertContains(response, "csrfmiddlewaretoken")
        self.assertWellFormedHTML(response)

    def test_create_sets_author_and_redirects(self):
        response = self.client.post(reverse("cookbook:recipe_create"), form_data(), follow=True)
        recipe = Recipe.objects.get()
        self.assertRedirects(response, recipe.get_absolute_url())
        self.assertEqual(recipe.author, self.alice)
        self.assertEqual([t.slug for t in recipe.tags.all()], ["breakfast"])
        self.assertContains(response, "“Pancakes” was added.")
        self.assertWellFormedHTML(response)

    def test_validation_errors_are_shown(self):
        response = self.client.post(reverse("cookbook:recipe_create"), form_data(title="", servings="0"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Please correct the errors below.")
        self.assertContains(response, "This field is required.")
        self.assertContains(response, "greater than or equal to 1")
        self.assertIn("title", response.context["form"].errors)
        self.assertFalse(Recipe.objects.exists())
        self.assertWellFormedHTML(response)

    def test_author_cannot_be_forged(self):
        bob = make_user("bob")
        self.client.post(reverse("cookbook:recipe_create"), form_data(author=bob.pk))
        self.assertEqual(Recipe.objects.get().author, self.alice)


class ChangeOwnRecipeTests(HTMLAssertionsMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice")
        cls.bob = make_user("bob")
        cls.recipe = make_recipe(cls.alice, "Tomato Soup", tags=["Soup"])
        cls.edit_url = reverse("cookbook:recipe_update", args=[cls.recipe.slug])
        cls.delete_url = reverse("cookbook:recipe_delete", args=[cls.recipe.slug])

    def test_owner_can_edit(self):
        self.client.force_login(self.alice)
        page = self.client.get(self.edit_url)
        self.assertContains(page, 'value="Tomato Soup"')
        self.assertWellFormedHTML(page)
        soup = Tag.objects.get(slug="soup")
        response = self.client.post(self.edit_url, form_data(title="Roast Tomato Soup", tags=[soup.pk], new_tags=""))
        self.assertRedirects(response, self.recipe.get_absolute_url())
        self.recipe.refresh_from_db()
        self.assertEqual(self.recipe.title, "Roast Tomato Soup")
        self.assertEqual(self.recipe.slug, "tomato-soup")
        self.assertEqual(list(self.recipe.tags.all()), [soup])

    def test_owner_can_delete(self):
        self.client.force_login(self.alice)
        page = self.client.get(self.delete_url)
        self.assertContains(page, "Delete “Tomato Soup”?")
        self.assertWellFormedHTML(page)
        response = self.client.post(self.delete_url, follow=True)
        self.assertRedirects(response, reverse("cookbook:recipe_list"))
        self.assertContains(response, "“Tomato Soup” was deleted.")
        self.assertFalse(Recipe.objects.exists())
        self.assertTrue(Tag.objects.filter(slug="soup").exists())

    def test_other_user_cannot_edit_or_delete(self):
        self.client.force_login(self.bob)
        self.assertEqual(self.client.get(self.edit_url).status_code, 404)
        self.assertEqual(self.client.post(self.edit_url, form_data(title="Hacked")).status_code, 404)
        self.assertEqual(self.client.get(self.delete_url).status_code, 404)
        self.assertEqual(self.client.post(self.delete_url).status_code, 404)
        self.recipe.refresh_from_db()
        self.assertEqual(self.recipe.title, "Tomato Soup")

    def test_staff_do_not_bypass_ownership_on_the_site(self):
        self.client.force_login(make_user("admin", is_staff=True))
        self.assertEqual(self.client.post(self.delete_url).status_code, 404)
        self.assertTrue(Recipe.objects.exists())


class AdminTests(HTMLAssertionsMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin = make_user("boss", is_staff=True, is_superuser=True)
        make_recipe(cls.admin, "Tomato Soup", tags=["Soup"])

    def setUp(self):
        self.client.force_login(self.admin)

    def test_admin_pages(self):
        for url in [
            reverse("admin:cookbook_recipe_changelist"),
            reverse("admin:cookbook_recipe_changelist") + "?q=tomato",
            reverse("admin:cookbook_recipe_add"),
            reverse("admin:cookbook_tag_changelist"),
        ]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
        response = self.client.get(reverse("admin:cookbook_recipe_changelist"))
        self.assertContains(response, "Tomato Soup")

    def test_admin_add_defaults_author_to_current_user(self):
        response = self.client.get(reverse("admin:cookbook_recipe_add"))
        self.assertEqual(response.context["adminform"].form.initial["author"], self.admin.pk)
