from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.text import slugify

from .validators import validate_image_extension, validate_image_file


def unique_slug(model, text, max_length, exclude_pk=None):
    """Return a slug for ``text`` that no other ``model`` row uses."""
    base = slugify(text)[:max_length].strip("-") or "item"
    slug, n = base, 2
    others = model._default_manager.exclude(pk=exclude_pk) if exclude_pk else model._default_manager.all()
    while others.filter(slug=slug).exists():
        suffix = f"-{n}"
        slug = base[: max_length - len(suffix)].strip("-") + suffix
        n += 1
    return slug


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Tag, self.name, 50, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("cookbook:recipe_list") + f"?tag={self.slug}"


class RecipeQuerySet(models.QuerySet):
    def with_related(self):
        """Fetch authors and tags up front so listing recipes costs two queries."""
        return self.select_related("author").prefetch_related("tags")

    def search(self, text):
        """Recipes whose title, summary or ingredients contain every word of ``text``."""
        queryset = self
        for word in text.split():
            queryset = queryset.filter(
                models.Q(title__icontains=word)
                | models.Q(summary__icontains=word)
                | models.Q(ingredients__icontains=word)
            )
        return queryset


class Recipe(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200, unique=True, help_text="Used in the recipe's address; filled in from the title when blank."
    )
    summary = models.CharField(max_length=300, help_text="One or two sentences shown in the recipe list.")
    ingredients = models.TextField(help_text="One ingredient per line.")
    steps = models.TextField(help_text="One step per line.")
    prep_minutes = models.PositiveIntegerField("preparation time (minutes)", validators=[MaxValueValidator(24 * 60)])
    cook_minutes = models.PositiveIntegerField(
        "cooking time (minutes)", default=0, validators=[MaxValueValidator(7 * 24 * 60)]
    )
    servings = models.PositiveSmallIntegerField(default=4, validators=[MinValueValidator(1), MaxValueValidator(100)])
    tags = models.ManyToManyField(Tag, blank=True, related_name="recipes")
    image = models.FileField(
        upload_to="recipes/%Y/%m/",
        blank=True,
        validators=[validate_image_extension, validate_image_file],
        help_text="Optional JPEG, PNG, GIF or WebP image.",
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recipes")
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    updated = models.DateTimeField(auto_now=True)

    objects = RecipeQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Recipe, self.title, 200, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("cookbook:recipe_detail", kwargs={"slug": self.slug})

    @property
    def total_minutes(self):
        return self.prep_minutes + self.cook_minutes

    @property
    def ingredient_list(self):
        return [line.strip() for line in self.ingredients.splitlines() if line.strip()]

    @property
    def step_list(self):
        return [line.strip() for line in self.steps.splitlines() if line.strip()]
