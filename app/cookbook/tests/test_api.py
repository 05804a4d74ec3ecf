from django.test import TestCase
from django.urls import reverse

from .helpers import make_recipe, make_user


class RecipeApiTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice")
        cls.soup = make_recipe(cls.alice, "Tomato Soup", tags=["Soup", "Vegan"], prep_minutes=10, cook_minutes=20)
        cls.cake = make_recipe(cls.alice, "Lemon Cake", tags=["Baking"], ingredients="flour\nlemon")
        cls.list_url = reverse("cookbook:api_recipe_list")

    def test_list(self):
        response = self.client.get(self.list_url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/json")
        data = response.json()
        self.assertEqual(data["count"], 2)
        self.assertEqual(data["page"], 1)
        self.assertEqual(data["num_pages"], 1)
        self.assertIsNone(data["next"])
        self.assertIsNone(data["previous"])
        self.assertEqual([r["slug"] for r in data["results"]], ["lemon-cake", "tomato-soup"])
        soup = data["results"][1]
        self.assertEqual(soup["title"], "Tomato Soup")
        self.assertEqual(soup["author"], "alice")
        self.assertEqual(soup["total_minutes"], 30)
        self.assertEqual(soup["tags"], [{"name": "Soup", "slug": "soup"}, {"name": "Vegan", "slug": "vegan"}])
        self.assertEqual(soup["url"], "http://testserver/recipes/tomato-soup/")
        self.assertEqual(soup["api_url"], "http://testserver/api/recipes/tomato-soup/")
        self.assertIsNone(soup["image"])
        self.assertNotIn("ingredients", soup)

    def test_list_query_count_is_constant(self):
        for i in range(30):
            make_recipe(self.alice, f"Extra {i}", tags=["Soup", "Quick"])
        with self.assertNumQueries(3):  # count, page, tags
            data = self.client.get(self.list_url).json()
        self.assertEqual(len(data["results"]), 20)

    def test_pagination(self):
        for i in range(3):
            make_recipe(self.alice, f"Extra {i}")
        first = self.client.get(self.list_url, {"page_size": 2}).json()
        self.assertEqual(first["count"], 5)
        self.assertEqual(first["num_pages"], 3)
        self.assertEqual(first["next"], "http://testserver/api/recipes/?page_size=2&page=2")
        second = self.client.get(first["next"]).json()
        self.assertEqual(second["page"], 2)
        self.assertEqual(second["previous"], "http://testserver/api/recipes/?page_size=2&page=1")
        last = self.client.get(self.list_url, {"page_size": 2, "page": "last"}).json()
        self.assertEqual(len(last["results"]), 1)
        self.assertEqual(self.client.get(self.list_url, {"page_size": 1000}).json()["num_pages"], 1)

    def test_filters(self):
        data = self.client.get(self.list_url, {"tag": "baking"}).json()
        self.assertEqual([r["slug"] for r in data["results"]], ["lemon-cake"])
        data = self.client.get(self.list_url, {"q": "tomato"}).json()
        self.assertEqual([r["slug"] for r in data["results"]], ["tomato-soup"])

    def test_bad_page_is_json_404(self):
        response = self.client.get(self.list_url, {"page": 50})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json(), {"error": "Not found."})

    def test_detail(self):
        response = self.client.get(reverse("cookbook:api_recipe_detail", args=["tomato-soup"]))
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertEqual(data["id"], self.soup.pk)
        self.assertEqual(data["ingredients"], ["4 tomatoes", "1 onion", "Salt"])
        self.assertEqual(data["steps"], ["Chop everything.", "Simmer for 20 minutes.", "Blend."])
        self.assertEqual(data["servings"], 4)
        self.assertTrue(data["created"].startswith(str(self.soup.created.year)))

    def test_detail_not_found(self):
        response = self.client.get(reverse("cookbook:api_recipe_detail", args=["missing"]))
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json(), {"error": "Not found."})

    def test_read_only(self):
        response = self.client.post(self.list_url, {})
        self.assertEqual(response.status_code, 405)
        response = self.client.delete(reverse("cookbook:api_recipe_detail", args=["tomato-soup"]))
        self.assertEqual(response.status_code, 405)
