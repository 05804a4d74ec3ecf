from django import forms
from django.utils.text import slugify

from .models import Recipe, Tag


class RecipeForm(forms.ModelForm):
    new_tags = forms.CharField(
        required=False,
        max_length=200,
        help_text="Comma-separated tags to add, e.g. “vegetarian, quick”.",
    )

    class Meta:
        model = Recipe
        fields = [
            "title",
            "summary",
            "prep_minutes",
            "cook_minutes",
            "servings",
            "ingredients",
            "steps",
            "tags",
            "image",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2}),
            "ingredients": forms.Textarea(attrs={"rows": 8}),
            "steps": forms.Textarea(attrs={"rows": 8}),
            "tags": forms.CheckboxSelectMultiple,
            "image": forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Mirror the model's validators in the browser's number inputs.
        self.fields["servings"].widget.attrs.update(min=1, max=100)
        self.fields["prep_minutes"].widget.attrs.update(max=24 * 60)
        self.fields["cook_minutes"].widget.attrs.update(max=7 * 24 * 60)

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not slugify(title):
            raise forms.ValidationError("The title needs at least one letter or digit.")
        return title

    def clean_ingredients(self):
        return self._tidy_lines(self.cleaned_data["ingredients"])

    def clean_steps(self):
        return self._tidy_lines(self.cleaned_data["steps"])

    @staticmethod
    def _tidy_lines(text):
        """One item per line, without surrounding spaces or blank lines."""
        return "\n".join(line.strip() for line in text.splitlines() if line.strip())

    def clean_new_tags(self):
        names = []
        for name in self.cleaned_data["new_tags"].split(","):
            name = " ".join(name.split())
            if not name:
                continue
            if len(name) > 50 or not slugify(name):
                raise forms.ValidationError(f"“{name}” is not a usable tag name (letters or digits, at most 50).")
            if name.lower() not in (n.lower() for n in names):
                names.append(name)
        return names

    def save(self, commit=True):
        recipe = super().save(commit=commit)
        if commit:
            self.save_new_tags()
        return recipe

    def save_new_tags(self):
        """Attach the tags typed into ``new_tags``, creating those that don't exist."""
        for name in self.cleaned_data.get("new_tags", []):
            tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
            self.instance.tags.add(tag)
