from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from cookbook.models import Recipe, Tag

TAGS = [
    "Vegetarian", "Vegan", "Quick", "Baking", "Soup", "Breakfast",
    "Dessert", "Pasta", "Chicken", "Fish", "Salad", "Make ahead",
]

# title, summary, prep, cook, servings, tags, ingredients, steps
RECIPES = [
    (
        "Tomato and Lentil Soup",
        "A thick, warming soup of red lentils and tomatoes, ready in under an hour.",
        15, 35, 4, ["Vegetarian", "Vegan", "Soup", "Make ahead"],
        ["2 tbsp olive oil", "1 onion, chopped", "2 carrots, diced", "2 garlic cloves, sliced",
         "1 tsp ground cumin", "200 g red lentils, rinsed", "400 g tin chopped tomatoes",
         "1.2 l vegetable stock", "Juice of 1/2 lemon", "Salt and black pepper"],
        ["Warm the oil in a large pan and soften the onion and carrots for 8 minutes.",
         "Add the garlic and cumin and cook for another minute.",
         "Stir in the lentils, tomatoes and stock; simmer for 25 minutes until the lentils collapse.",
         "Blend until smooth or leave chunky, then season with lemon juice, salt and pepper."],
    ),
    (
        "Lemon Garlic Roast Chicken",
        "A whole chicken roasted over lemons and garlic, with crisp skin and juicy meat.",
        20, 80, 6, ["Chicken", "Make ahead"],
        ["1 whole chicken, about 1.8 kg", "2 lemons", "1 head of garlic, halved",
         "A few sprigs of thyme", "2 tbsp soft butter", "1 tbsp flaky salt", "Black pepper"],
        ["Heat the oven to 200 °C and take the chicken out of the fridge 30 minutes ahead.",
         "Halve one lemon and put it in the cavity with the garlic and thyme.",
         "Rub the skin with butter, salt and pepper; slice the second lemon around the bird.",
         "Roast for 1 hour 20 minutes, until the juices run clear.",
         "Rest for 15 minutes before carving."],
    ),
    (
        "Spaghetti Aglio e Olio",
        "Pasta with garlic, chilli and good olive oil: the classic midnight supper.",
        5, 12, 2, ["Pasta", "Vegetarian", "Quick"],
        ["200 g spaghetti", "5 tbsp extra virgin olive oil", "4 garlic cloves, thinly sliced",
         "1/2 tsp chilli flakes", "A handful of parsley, chopped", "Salt"],
        ["Cook the spaghetti in well-salted boiling water until al dente.",
         "Meanwhile warm the oil and garlic gently until the garlic turns pale gold.",
         "Add the chilli, then a ladle of pasta water.",
         "Toss in the drained spaghetti and parsley until glossy."],
    ),
    (
        "Overnight Oats with Berries",
        "Creamy oats soaked overnight and topped with fresh berries and honey.",
        5, 0, 1, ["Breakfast", "Vegetarian", "Make ahead", "Quick"],
        ["50 g rolled oats", "120 ml milk", "2 tbsp yoghurt", "1 tsp chia seeds",
         "A handful of berries", "1 tsp honey"],
        ["Stir the oats, milk, yoghurt and chia together in a jar.",
         "Cover and refrigerate overnight.",
         "Top with berries and honey in the morning."],
    ),
    (
        "Crispy Salmon with Greens",
        "Pan-fried salmon with crackling skin on a bed of garlicky greens.",
        10, 15, 2, ["Fish", "Quick"],
        ["2 salmon fillets, skin on", "1 tbsp neutral oil", "200 g spring greens, shredded",
         "1 garlic clove, grated", "1 tbsp soy sauce", "1 lemon, in wedges"],
        ["Pat the salmon dry and season the skin well.",
         "Fry skin side down in the hot oil for 6 minutes without moving it.",
         "Turn, cook 2 minutes more and set aside.",
         "Wilt the greens in the pan with the garlic and soy sauce; serve with the salmon and lemon."],
    ),
    (
        "Classic Banana Bread",
        "A moist loaf that turns overripe bananas into the best part of the week.",
        15, 60, 10, ["Baking", "Dessert", "Vegetarian"],
        ["3 very ripe bananas", "75 g melted butter", "150 g light brown sugar", "1 egg",
         "1 tsp vanilla extract", "1 tsp bicarbonate of soda", "A pinch of salt", "190 g plain flour"],
        ["Heat the oven to 175 °C and line a loaf tin.",
         "Mash the bananas and stir in the butter, sugar, egg and vanilla.",
         "Fold in the bicarbonate, salt and flour until just combined.",
         "Bake for about an hour, until a skewer comes out clean. Cool before slicing."],
    ),
    (
        "Greek Salad",
        "Tomatoes, cucumber, olives and feta with oregano and a sharp dressing.",
        15, 0, 4, ["Salad", "Vegetarian", "Quick"],
        ["4 ripe tomatoes, in wedges", "1 cucumber, in chunks", "1 small red onion, thinly sliced",
         "A handful of Kalamata olives", "200 g feta", "1 tsp dried oregano",
         "4 tbsp olive oil", "1 tbsp red wine vinegar"],
        ["Combine the tomatoes, cucumber, onion and olives in a wide bowl.",
         "Lay the feta on top and scatter with oregano.",
         "Whisk the oil and vinegar, pour over and serve at once."],
    ),
    (
        "Chickpea and Spinach Curry",
        "A quick coconut curry with chickpeas and spinach for busy evenings.",
        10, 25, 4, ["Vegan", "Vegetarian", "Quick"],
        ["1 tbsp oil", "1 onion, chopped", "1 thumb ginger, grated", "2 garlic cloves, grated",
         "2 tbsp curry paste", "2 x 400 g tins chickpeas, drained", "400 ml coconut milk",
         "200 g spinach", "Juice of 1 lime", "Rice or flatbread, to serve"],
        ["Soften the onion in the oil, then add the ginger, garlic and curry paste for 2 minutes.",
         "Add the chickpeas and coconut milk and simmer for 15 minutes.",
         "Stir in the spinach until wilted and finish with lime juice.",
         "Serve with rice or warm flatbread."],
    ),
    (
        "Buttermilk Pancakes",
        "Tall, fluffy pancakes for a slow weekend breakfast.",
        10, 20, 4, ["Breakfast", "Vegetarian"],
        ["250 g plain flour", "2 tsp baking powder", "1/2 tsp bicarbonate of soda", "2 tbsp sugar",
         "A pinch of salt", "350 ml buttermilk", "2 eggs", "40 g melted butter", "Maple syrup, to serve"],
        ["Whisk the dry ingredients together in a bowl.",
         "Beat the buttermilk, eggs and butter, then fold into the dry mix; a few lumps are fine.",
         "Cook ladlefuls on a buttered pan over medium heat until bubbles form, then flip.",
         "Serve in stacks with maple syrup."],
    ),
    (
        "Mushroom Risotto",
        "A creamy risotto with mixed mushrooms, parmesan and a little thyme.",
        10, 30, 4, ["Vegetarian"],
        ["1 l hot vegetable stock", "2 tbsp butter", "1 shallot, finely chopped",
         "300 g mixed mushrooms, sliced", "300 g risotto rice", "125 ml dry white wine",
         "50 g parmesan, grated", "A few thyme leaves"],
        ["Fry the mushrooms in half the butter until golden; set aside.",
         "Soften the shallot in the pan, add the rice and stir for a minute.",
         "Pour in the wine, then add the stock a ladle at a time, stirring, for about 20 minutes.",
         "Stir in the mushrooms, parmesan, thyme and the rest of the butter; rest 2 minutes."],
    ),
    (
        "Dark Chocolate Mousse",
        "A rich, airy mousse made with just four ingredients.",
        20, 0, 6, ["Dessert", "Make ahead", "Vegetarian"],
        ["200 g dark chocolate (70%)", "4 eggs, separated", "2 tbsp caster sugar", "A pinch of salt"],
        ["Melt the chocolate gently and let it cool slightly.",
         "Stir the yolks into the chocolate one at a time.",
         "Whisk the whites with the salt to soft peaks, then add the sugar and whisk until glossy.",
         "Fold the whites into the chocolate in three goes and chill for at least 3 hours."],
    ),
    (
        "Pesto Pasta Salad",
        "Pasta tossed with basil pesto, cherry tomatoes and mozzarella; great for picnics.",
        10, 10, 4, ["Pasta", "Salad", "Vegetarian", "Make ahead"],
        ["300 g fusilli", "4 tbsp basil pesto", "250 g cherry tomatoes, halved",
         "125 g mini mozzarella balls", "A handful of rocket", "1 tbsp olive oil"],
        ["Cook the pasta, drain and rinse under cold water.",
         "Toss with the pesto and olive oil.",
         "Fold in the tomatoes, mozzarella and rocket just before serving."],
    ),
]

VARIATIONS = [
    ("Smoky", "a smoky twist", "1 tsp smoked paprika", "Add the smoked paprika with the seasoning."),
    ("Herby", "lots of fresh herbs", "A big handful of mixed soft herbs, chopped",
     "Scatter over the herbs just before serving."),
    ("Spicy", "a good kick of heat", "1 red chilli, finely chopped", "Add the chilli with the aromatics."),
    ("Weeknight", "a few shortcuts for busy days", "1 tbsp ready-made stock paste",
     "Use the stock paste to save time where stock or seasoning is needed."),
    ("Lemony", "plenty of bright lemon", "Zest of 1 lemon", "Finish with the lemon zest."),
    ("Garden", "extra vegetables from the garden", "1 courgette, diced",
     "Add the courgette with the first vegetables or toss through at the end."),
]


def demo_recipes(count):
    """Yield ``count`` recipe dicts: the base recipes, then variations of them."""
    for i in range(count):
        title, summary, prep, cook, servings, tags, ingredients, steps = RECIPES[i % len(RECIPES)]
        round_ = i // len(RECIPES)
        ingredients, steps = list(ingredients), list(steps)
        if round_:
            word, phrase, extra_ingredient, extra_step = VARIATIONS[(round_ - 1) % len(VARIATIONS)]
            edition = (round_ - 1) // len(VARIATIONS)
            title = f"{word} {title}" + (f" No. {edition + 1}" if edition else "")
            summary = f"{summary[:-1]}, with {phrase}."
            ingredients.append(extra_ingredient)
            steps.append(extra_step)
            prep += 5 * (round_ % 3)
        yield {
            "title": title,
            "summary": summary,
            "prep_minutes": prep,
            "cook_minutes": cook,
            "servings": servings,
            "ingredients": "\n".join(ingredients),
            "steps": "\n".join(steps),
            "tags": tags,
        }


class Command(BaseCommand):
    help = "Create a demo user, tags and recipes. Running it again changes nothing already there."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=36, help="number of demo recipes (default 36)")
        parser.add_argument("--username", default="demo", help="demo user name (default demo)")
        parser.add_argument("--password", default="recipes-demo", help="demo user password (default recipes-demo)")

    @transaction.atomic
    def handle(self, *args, count, username, password, **options):
        if count < 0:
            raise CommandError("--count must not be negative.")
        User = get_user_model()
        user, user_created = User.objects.get_or_create(
            username=username, defaults={"first_name": "Demo", "last_name": "Cook"}
        )
        if user_created:
            user.set_password(password)
            user.save()

        tags = {}
        for name in TAGS:
            tags[name], _ = Tag.objects.get_or_create(slug=slugify(name), defaults={"name": name})

        created = 0
        for data in demo_recipes(count):
            tag_names = data.pop("tags")
            recipe, is_new = Recipe.objects.get_or_create(
                slug=slugify(data["title"]), defaults={**data, "author": user}
            )
            if is_new:
                recipe.tags.set([tags[name] for name in tag_names])
                created += 1

        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {created} new recipe(s) ({count} requested), {len(tags)} tags, "
                f"user {username!r}{' (created)' if user_created else ''}."
            )
        )
