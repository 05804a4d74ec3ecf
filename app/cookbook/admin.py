from django.contrib import admin
from django.db.models import Count

from .models import Recipe, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "recipe_count"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(recipe_count=Count("recipes"))

    @admin.display(description="recipes", ordering="recipe_count")
    def recipe_count(self, tag):
        return tag.recipe_count


@admin.register(Recipe)
class RecipeAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "tag_list", "total_minutes", "servings", "created", "updated"]
    list_display_links = ["title"]
    list_filter = ["tags", "created", ("author", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["author"]
    search_fields = ["title", "summary", "ingredients", "author__username"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["tags"]
    date_hierarchy = "created"
    readonly_fields = ["created", "updated"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["title", "slug", "author", "summary", "image"]}),
        ("Cooking", {"fields": [("prep_minutes", "cook_minutes", "servings"), "ingredients", "steps", "tags"]}),
        ("History", {"fields": ["created", "updated"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("author", request.user.pk)
        return initial

    @admin.display(description="tags")
    def tag_list(self, recipe):
        return ", ".join(tag.name for tag in recipe.tags.all())

    @admin.display(description="total time (min)")
    def total_minutes(self, recipe):
        return recipe.total_minutes
