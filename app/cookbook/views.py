from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.views.generic import CreateView, DeleteView, DetailView, ListView, UpdateView
from django.views.generic.detail import BaseDetailView
from django.views.generic.list import BaseListView

from .forms import RecipeForm
from .models import Recipe, Tag


def plain(request):
    """A fixed text response that touches no database (for benchmarks)."""
    return HttpResponse("Hello from the recipes app.\n", content_type="text/plain; charset=utf-8")


class RecipeFilterMixin:
    """Recipes filtered by the ``q``, ``tag`` and ``author`` query parameters."""

    def get_queryset(self):
        recipes = Recipe.objects.with_related()
        params = self.request.GET
        self.search_text = params.get("q", "").strip()[:100]
        self.tag_slug = params.get("tag", "").strip()
        self.author_name = params.get("author", "").strip()
        if self.search_text:
            recipes = recipes.search(self.search_text)
        if self.tag_slug:
            recipes = recipes.filter(tags__slug=self.tag_slug)
        if self.author_name:
            recipes = recipes.filter(author__username=self.author_name)
        return recipes

    def query_without_page(self):
        query = self.request.GET.copy()
        query.pop("page", None)
        return query


class RecipeListView(RecipeFilterMixin, ListView):
    model = Recipe
    paginate_by = 12
    context_object_name = "recipes"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            search_text=self.search_text,
            tag_slug=self.tag_slug,
            author_name=self.author_name,
            current_tag=Tag.objects.filter(slug=self.tag_slug).first() if self.tag_slug else None,
            tags=Tag.objects.annotate(recipe_count=Count("recipes")).filter(recipe_count__gt=0),
            page_query=self.query_without_page().urlencode(),
        )
        return context


class RecipeDetailView(DetailView):
    model = Recipe
    queryset = Recipe.objects.with_related()
    context_object_name = "recipe"


class OwnRecipeMixin(LoginRequiredMixin):
    """Only the author may change a recipe; for anyone else it does not exist."""

    def get_queryset(self):
        return Recipe.objects.filter(author=self.request.user)


class RecipeCreateView(LoginRequiredMixin, SuccessMessageMixin, CreateView):
    model = Recipe
    form_class = RecipeForm
    success_message = "“%(title)s” was added."

    def form_valid(self, form):
        form.instance.author = self.request.user
        return super().form_valid(form)


class RecipeUpdateView(OwnRecipeMixin, SuccessMessageMixin, UpdateView):
    model = Recipe
    form_class = RecipeForm
    success_message = "“%(title)s” was saved."


class RecipeDeleteView(OwnRecipeMixin, DeleteView):
    model = Recipe
    success_url = reverse_lazy("cookbook:recipe_list")

    def post(self, request, *args, **kwargs):
        # Django 4.0 moved deletion into form_valid(); post() works on both.
        title = self.get_object().title
        response = super().post(request, *args, **kwargs)
        messages.success(request, f"“{title}” was deleted.")
        return response


class SignUpView(CreateView):
    form_class = UserCreationForm
    template_name = "registration/signup.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("cookbook:recipe_list")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.save()
        login(self.request, user)
        messages.success(self.request, f"Welcome, {user.username}! You can now add your own recipes.")
        return redirect("cookbook:recipe_list")


# --- JSON API -----------------------------------------------------------------


def recipe_summary(recipe, request):
    return {
        "id": recipe.pk,
        "slug": recipe.slug,
        "title": recipe.title,
        "summary": recipe.summary,
        "author": recipe.author.get_username(),
        "tags": [{"name": tag.name, "slug": tag.slug} for tag in recipe.tags.all()],
        "prep_minutes": recipe.prep_minutes,
        "cook_minutes": recipe.cook_minutes,
        "total_minutes": recipe.total_minutes,
        "servings": recipe.servings,
        "image": request.build_absolute_uri(recipe.image.url) if recipe.image else None,
        "url": request.build_absolute_uri(recipe.get_absolute_url()),
        "api_url": request.build_absolute_uri(reverse("cookbook:api_recipe_detail", kwargs={"slug": recipe.slug})),
        "created": recipe.created.isoformat(),
        "updated": recipe.updated.isoformat(),
    }


class JsonNotFoundMixin:
    http_method_names = ["get", "head", "options"]

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except Http404:
            return JsonResponse({"error": "Not found."}, status=404)


class RecipeListApiView(JsonNotFoundMixin, RecipeFilterMixin, BaseListView):
    paginate_by = 20
    max_page_size = 100

    def get_paginate_by(self, queryset):
        try:
            size = int(self.request.GET.get("page_size", self.paginate_by))
        except ValueError:
            size = self.paginate_by
        return min(max(size, 1), self.max_page_size)

    def page_url(self, number):
        query = self.query_without_page()
        query["page"] = number
        return self.request.build_absolute_uri(f"{self.request.path}?{query.urlencode()}")

    def render_to_response(self, context):
        page = context["page_obj"]
        return JsonResponse(
            {
                "count": page.paginator.count,
                "page": page.number,
                "num_pages": page.paginator.num_pages,
                "next": self.page_url(page.next_page_number()) if page.has_next() else None,
                "previous": self.page_url(page.previous_page_number()) if page.has_previous() else None,
                "results": [recipe_summary(recipe, self.request) for recipe in page.object_list],
            }
        )


class RecipeDetailApiView(JsonNotFoundMixin, BaseDetailView):
    queryset = Recipe.objects.with_related()

    def render_to_response(self, context):
        recipe = self.object
        data = recipe_summary(recipe, self.request)
        data.update(ingredients=recipe.ingredient_list, steps=recipe.step_list)
        return JsonResponse(data)
