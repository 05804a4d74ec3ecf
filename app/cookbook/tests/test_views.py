from django.test import RequestFactory, TestCase
from django.urls import reverse
from django.views.defaults import server_error

from .helpers import HTMLAssertionsMixin, make_recipe, make_user


class RecipeListViewTests(HTMLAssertionsMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice")
        cls.bob = make_user("bob")
        cls.soup = make_recipe(cls.alice, "Tomato Soup", tags=["Soup", "Vegan"])
        cls.cake = make_recipe(cls.bob, "Lemon Cake", tags=["Baking"], ingredients="flour\nlemon\nsugar")
        cls.url = reverse("cookbook:recipe_list")

    def test_lists_recipes_with_tags_and_authors(self):
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertTemplateUsed(response, "cookbook/recipe_list.html")
        self.assertEqual(list(response.context["recipes"]), [self.cake, self.soup])
        self.assertContains(response, 'href="/recipes/tomato-soup/"')
        self.assertContains(response, "by alice")
        self.assertContains(response, 'href="?tag=vegan"')
        self.assertContains(response, "/static/css/site.css")
        self.assertContains(response, "/static/js/site.js")
        self.assertWellFormedHTML(response)

    def test_query_count_does_not_grow_with_recipes(self):
        self.client.get(self.url)  # warm up: content types, sessions
        with self.assertNumQueries(4):  # count, page of recipes, their tags, tag sidebar
            self.client.get(self.url)
        for i in range(10):
            make_recipe(self.alice, f"Extra {i}", tags=["Soup", f"Tag {i}"])
        with self.assertNumQueries(4):
            response = self.client.get(self.url)
        self.assertEqual(len(response.context["recipes"]), 12)

    def test_search(self):
        response = self.client.get(self.url, {"q": "lemon"})
        self.assertEqual(list(response.context["recipes"]), [self.cake])
        self.assertContains(response, "1 recipe matching “lemon”")
        self.assertContains(response, 'value="lemon"')
        self.assertWellFormedHTML(response)

    def test_search_escapes_user_input(self):
        response = self.client.get(self.url, {"q": '<script>"x"'})
        self.assertNotContains(response, "<script>\"x\"")
        self.assertContains(response, "&lt;script&gt;")
        self.assertWellFormedHTML(response)

    def test_tag_filter(self):
        response = self.client.get(self.url, {"tag": "baking"})
        self.assertEqual(list(response.context["recipes"]), [self.cake])
        self.assertEqual(response.context["current_tag"].name, "Baking")
        self.assertContains(response, "<option value=\"baking\" selected>", html=False)
        self.assertWellFormedHTML(response)

    def test_unknown_tag_gives_empty_list(self):
        response = self.client.get(self.url, {"tag": "nope"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No recipes found.")

    def test_author_filter(self):
        response = self.client.get(self.url, {"author": "alice"})
        self.assertEqual(list(response.context["recipes"]), [self.soup])
        self.assertContains(response, "Recipes by alice")

    def test_pagination_keeps_filters(self):
        for i in range(25):
            make_recipe(self.alice, f"Soup {i}", tags=["Soup"])
        response = self.client.get(self.url, {"tag": "soup"})
        self.assertTrue(response.context["is_paginated"])
        self.assertEqual(response.context["paginator"].count, 26)
        self.assertContains(response, 'href="?tag=soup&amp;page=2"')
        self.assertWellFormedHTML(response)
        page3 = self.client.get(self.url, {"tag": "soup", "page": 3})
        self.assertEqual(len(page3.context["recipes"]), 2)
        self.assertContains(page3, 'href="?tag=soup&amp;page=2"')
        self.assertEqual(self.client.get(self.url, {"page": 99}).status_code, 404)
        self.assertEqual(self.client.get(self.url, {"page": "x"}).status_code, 404)

    def test_logged_in_header(self):
        self.client.force_login(self.alice)
        response = self.client.get(self.url)
        self.assertContains(response, reverse("cookbook:recipe_create"))
        self.assertContains(response, 'action="/accounts/logout/"')
        self.assertContains(response, "csrfmiddlewaretoken")
        self.assertWellFormedHTML(response)


class RecipeDetailViewTests(HTMLAssertionsMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice")
        cls.recipe = make_recipe(cls.alice, "Tomato Soup", tags=["Soup"], ingredients="4 tomatoes\n1 <onion>")

    def test_detail_page(self):
        response = self.client.get(self.recipe.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "<h1>Tomato Soup</h1>", html=True)
        self.assertContains(response, "<li>4 tomatoes</li>", html=True)
        self.assertContains(response, "1 &lt;onion&gt;")
        self.assertContains(response, "<li>Simmer for 20 minutes.</li>", html=True)
        self.assertContains(response, 'href="/?tag=soup"')
        self.assertNotContains(response, "/edit/")
        self.assertWellFormedHTML(response)

    def test_owner_sees_edit_links(self):
        self.client.force_login(self.alice)
        response = self.client.get(self.recipe.get_absolute_url())
        self.assertContains(response, reverse("cookbook:recipe_update", args=[self.recipe.slug]))
        self.assertContains(response, reverse("cookbook:recipe_delete", args=[self.recipe.slug]))
        self.assertWellFormedHTML(response)

    def test_other_users_see_no_edit_links(self):
        self.client.force_login(make_user("bob"))
        response = self.client.get(self.recipe.get_absolute_url())
        self.assertNotContains(response, "/edit/")

    def test_missing_recipe_uses_custom_404(self):
        response = self.client.get("/recipes/no-such-recipe/")
        self.assertEqual(response.status_code, 404)
        self.assertTemplateUsed(response, "404.html")
        self.assertContains(response, "Page not found", status_code=404)
        self.assertWellFormedHTML(response)


class ErrorAndPlainViewTests(HTMLAssertionsMixin, TestCase):
    def test_500_template(self):
        response = server_error(RequestFactory().get("/"))
        self.assertEqual(response.status_code, 500)
        self.assertIn(b"Something burnt in the kitchen", response.content)
        self.assertWellFormedHTML(response)

    def test_plain_view_needs_no_database(self):
        with self.assertNumQueries(0):
            response = self.client.get("/plain/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/plain; charset=utf-8")
        self.assertEqual(response.content, b"Hello from the recipes app.\n")

    def test_security_headers(self):
        response = self.client.get("/plain/")
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response["Referrer-Policy"], "same-origin")


class AuthPagesTests(HTMLAssertionsMixin, TestCase):
    def test_login_and_logout(self):
        make_user("alice", password="a-Str0ng-pass-phrase")
        page = self.client.get(reverse("login"))
        self.assertEqual(page.status_code, 200)
        self.assertWellFormedHTML(page)

        bad = self.client.post(reverse("login"), {"username": "alice", "password": "wrong"})
        self.assertEqual(bad.status_code, 200)
        self.assertContains(bad, "Please enter a correct username and password")
        self.assertWellFormedHTML(bad)

        good = self.client.post(reverse("login"), {"username": "alice", "password": "a-Str0ng-pass-phrase"})
        self.assertRedirects(good, reverse("cookbook:recipe_list"))
        self.assertIn("_auth_user_id", self.client.session)

        out = self.client.post(reverse("logout"))
        self.assertRedirects(out, reverse("cookbook:recipe_list"))
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_signup(self):
        page = self.client.get(reverse("signup"))
        self.assertWellFormedHTML(page)
        response = self.client.post(
            reverse("signup"),
            {"username": "newcook", "password1": "a-Str0ng-pass-phrase", "password2": "a-Str0ng-pass-phrase"},
        )
        self.assertRedirects(response, reverse("cookbook:recipe_list"))
        self.assertEqual(self.client.get(reverse("cookbook:recipe_list")).context["user"].username, "newcook")

    def test_signup_errors_are_shown(self):
        response = self.client.post(reverse("signup"), {"username": "x", "password1": "a", "password2": "b"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'class="errorlist')
        self.assertWellFormedHTML(response)

    def test_csrf_is_enforced(self):
        client = self.client_class(enforce_csrf_checks=True)
        response = client.post(reverse("login"), {"username": "a", "password": "b"})
        self.assertEqual(response.status_code, 403)
